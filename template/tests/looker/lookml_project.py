"""Read the LookML project of looker/ and check its references, for the tests of this folder.

lkml parses LookML but accepts any key and any reference, and Looker's own
validator needs a Looker instance: these checks are the project's own, against
dbt's manifest and the LookML the project declares. Each check returns the
problems it found as sentences naming the files that disagree; an empty list
means it passed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import lkml
import yaml

TABLE_COLUMN = re.compile(r"\$\{TABLE\}\.\"?(\w+)\"?")
FIELD_REF = re.compile(r"\$\{(\w+)\.(\w+)\}")
FIX = "run `make looker` to regenerate the views from dbt"


@dataclass
class View:
    """One view with its refinements: where it is declared, its table and its fields."""

    name: str
    files: list[str] = field(default_factory=list)
    table: str | None = None
    fields: set[str] = field(default_factory=set)
    #: (file, field, column) of every ${TABLE}.<column> in a field's sql.
    columns: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Project:
    """The parsed project: views, explores, models and dashboards by name."""

    root: Path
    views: dict[str, View] = field(default_factory=dict)
    #: explore name -> (file, view aliases -> view names, sql_on texts)
    explores: dict[str, tuple[str, dict[str, str], list[str]]] = field(default_factory=dict)
    models: dict[str, dict] = field(default_factory=dict)
    dashboards: dict[str, tuple[str, dict]] = field(default_factory=dict)


def lookml_files(folder: Path) -> list[Path]:
    """Every LookML file of the project, sorted."""
    return sorted(folder.rglob("*.lkml"))


def dashboard_files(folder: Path) -> list[Path]:
    """Every LookML dashboard of the project (YAML), sorted."""
    return sorted(folder.rglob("*.dashboard.lookml"))


def parse_all(folder: Path) -> dict[Path, object]:
    """Parse every file; raises (lkml SyntaxError, yaml.YAMLError) on the first broken one."""
    parsed: dict[Path, object] = {
        path: lkml.load(path.read_text()) for path in lookml_files(folder)
    }
    for path in dashboard_files(folder):
        dashboards = yaml.safe_load(path.read_text())
        if not isinstance(dashboards, list) or not all("dashboard" in d for d in dashboards):
            raise yaml.YAMLError(f"{path} is not a list of `- dashboard:` entries")
        parsed[path] = dashboards
    return parsed


def view_fields(view: dict) -> set[str]:
    """The field names a view declares; a time dimension group gives <name>_<timeframe>."""
    names = {f["name"] for kind in ("dimensions", "measures") for f in view.get(kind, [])}
    for group in view.get("dimension_groups", []):
        names.update(f"{group['name']}_{timeframe}" for timeframe in group.get("timeframes", []))
    return names


def load(folder: Path) -> Project:
    """Parse looker/ into a Project (refinements `+name` merged into their view)."""
    project = Project(folder)
    for path, parsed in parse_all(folder).items():
        rel = str(path.relative_to(folder.parent))
        if path.name.endswith(".dashboard.lookml"):
            for dashboard in parsed:
                project.dashboards[dashboard["dashboard"]] = (rel, dashboard)
            continue
        if path.name.endswith(".model.lkml"):
            project.models[path.name.removesuffix(".model.lkml")] = parsed
        for raw in parsed.get("views", []):
            view = project.views.setdefault(raw["name"].lstrip("+"), View(raw["name"].lstrip("+")))
            view.files.append(rel)
            view.table = raw.get("sql_table_name", view.table)
            view.fields |= view_fields(raw)
            for kind in ("dimensions", "dimension_groups", "measures"):
                for item in raw.get(kind, []):
                    for column in TABLE_COLUMN.findall(item.get("sql", "")):
                        view.columns.append((rel, item["name"], column))
        for raw in parsed.get("explores", []):
            name = raw["name"].lstrip("+")
            if raw["name"].startswith("+"):
                continue
            aliases = {name: raw.get("from") or raw.get("view_name") or name}
            for join in raw.get("joins", []):
                aliases[join["name"]] = join.get("from") or join["name"]
            sql_on = [join.get("sql_on", "") for join in raw.get("joins", [])]
            project.explores[name] = (rel, aliases, sql_on)
    return project


def marts(manifest: dict) -> dict[str, dict]:
    """The marts of the manifest (models under models/marts/) by their Snowflake table name."""
    project = manifest["metadata"]["project_name"]
    found = {}
    for node in manifest["nodes"].values():
        fqn = node.get("fqn") or []
        if (
            node["resource_type"] == "model"
            and node["package_name"] == project
            and fqn[1:2] == ["marts"]
        ):
            schema = node["config"].get("schema") or node["schema"]
            found[f"{schema}.{node.get('alias') or node['name']}".upper()] = node
    return found


def check_views_against_dbt(project: Project, manifest: dict) -> list[str]:
    """Each view reads a dbt mart, and each ${TABLE}.<column> is a column of that mart."""
    tables = marts(manifest)
    problems = []
    for view in project.views.values():
        where = ", ".join(view.files)
        table = (view.table or "").removeprefix("@{database}.").upper()
        node = tables.get(table)
        if node is None:
            problems.append(
                f"{where}: sql_table_name {view.table!r} of view {view.name} is no dbt mart "
                f"(dbt/models/marts/ has {sorted(tables)}): {FIX}"
            )
            continue
        known = {name.upper() for name in node["columns"]}
        for file, item, column in view.columns:
            if column.upper() not in known:
                problems.append(
                    f"{file}: field {item} of view {view.name} reads column {column}, which "
                    f"dbt/{node['original_file_path']} does not document: add it to the mart's "
                    f"YAML or fix the field, then {FIX}"
                )
    return problems


def check_field_refs(
    project: Project, file: str, refs: list[str], aliases: dict[str, str]
) -> list[str]:
    """Every view.field named in `refs` is an alias of the explore and a field of its view."""
    problems = []
    for ref in refs:
        alias, _, name = ref.partition(".")
        view = project.views.get(aliases.get(alias, ""))
        if view is None:
            problems.append(f"{file}: {ref} names {alias}, which the explore does not join")
        elif name not in view.fields:
            problems.append(
                f"{file}: {ref} is no field of view {view.name} ({', '.join(view.files)})"
            )
    return problems


def check_explores(project: Project) -> list[str]:
    """Each explore's views exist and its joins' sql_on name fields that exist."""
    problems = []
    for name, (file, aliases, sql_on) in project.explores.items():
        for alias, view in aliases.items():
            if view not in project.views:
                problems.append(f"{file}: explore {name} uses {alias}, but no view {view} exists")
        refs = [f"{a}.{f}" for text in sql_on for a, f in FIELD_REF.findall(text)]
        problems += check_field_refs(project, file, refs, aliases)
    return problems


def check_dashboards(project: Project) -> list[str]:
    """Each dashboard names models, explores and fields that the project declares."""
    problems = []
    for name, (file, dashboard) in project.dashboards.items():
        for item in dashboard.get("elements", []) + dashboard.get("filters", []):
            if "explore" not in item:
                continue
            if item.get("model") not in project.models:
                problems.append(
                    f"{file}: {name}/{item['name']} names model {item.get('model')}, "
                    f"but looker/models/ has {sorted(project.models)}"
                )
            explore = project.explores.get(item["explore"])
            if explore is None:
                problems.append(
                    f"{file}: {name}/{item['name']} names explore {item['explore']}, "
                    f"which looker/explores/ does not declare"
                )
                continue
            refs = [*item.get("fields", []), *([item["field"]] if "field" in item else [])]
            refs += [sort.split()[0] for sort in item.get("sorts", [])]
            refs += list((item.get("listen") or {}).values())
            problems += check_field_refs(project, file, refs, explore[1])
    return problems


def dbt_parse(project_dir: Path, work: Path) -> dict:
    """`dbt parse` the project on the DuckDB target ci (no connection); its manifest."""
    dbt = shutil.which("dbt")
    assert dbt is not None, "dbt is missing: run `make setup`"
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_DUCKDB_PATH": str(work / "parse.duckdb"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    env.pop("DBT_SCHEMA_PREFIX", None)
    command = [dbt, "parse", "--quiet", "--project-dir", str(project_dir)]
    command += ["--profiles-dir", str(project_dir), "--target", "ci"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((work / "target" / "manifest.json").read_text())


def generate(
    script: Path, manifest: Path, project: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    """Run looker/generate_lookml.py as `make looker` does (``--check`` writes nothing)."""
    command = [sys.executable, str(script), "--manifest", str(manifest), "--project", str(project)]
    command += options
    return subprocess.run(command, capture_output=True, text=True, check=False)
