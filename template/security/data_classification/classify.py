#!/usr/bin/env python3
"""The classification of every column, read from dbt, checked against policy.yml.

dbt is the one source of the classification: each column carries
``config: {meta: {classification: <level>}}`` in the YAML next to its model, source,
seed or snapshot. This script reads them from ``dbt/target/manifest.json``, which
``dbt parse`` writes without a warehouse connection in a few seconds (``make lint``
runs it first). The manifest, not the YAML files, because it is what dbt itself
resolved (meta set in ``dbt_project.yml``, YAML anchors, ``config:`` and top-level
``meta``, packages) and what the other components read.

Without ``--check`` it lists every column with its level (an unclassified column of an
intermediate model shows the level it inherits). ``--output FILE`` writes the list as
Markdown (``.md``) or JSON (``.json``), for example to ``.local/columns.md``.

``--check`` enforces policy.yml: every column of a source, seed and snapshot and of the
models under the required folders (staging, marts) has a level, every level exists in
the policy, and no column is classified less strictly than the same-named column it is
built from (unless its meta says why: ``declassified_because``). Each problem names the
column and the YAML file to fix.

Exit status: 0 fine, 1 the check found problems, 2 setup error (no or stale manifest,
unreadable policy): the message says what to run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFAULT_POLICY = HERE / "policy.yml"
HANDLING_RULES = ("readers", "masking", "retention", "copies")
RESOURCE_TYPES = ("source", "seed", "snapshot", "model")
PARSE_HINT = (
    "run `make lint` (it runs `dbt parse`), or by hand: "
    ".venv/bin/dbt parse --project-dir dbt --profiles-dir dbt"
)


class SetupError(Exception):
    """Missing or unusable input (manifest, policy): exit status 2."""


@dataclass(frozen=True)
class Column:
    """One column as dbt knows it, with where its classification lives."""

    resource_type: str  # source, seed, snapshot, model
    relation: str  # raw.customers for a source, else the node's name (dim_customers)
    name: str
    classification: str | None
    owner: str | None
    yaml_file: str | None  # the YAML that declares the column, relative to the dbt project
    node_path: str  # the node's own file, relative to the dbt project
    unique_id: str
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        return f"{self.relation}.{self.name}"


@dataclass
class Catalog:
    """Every column of the project's nodes, and what each node is built from."""

    project_dir: Path
    columns: list[Column]
    nodes: dict[str, dict[str, Any]]  # unique_id -> resource_type, relation, paths, depends_on

    def by_node(self) -> dict[str, dict[str, Column]]:
        index: dict[str, dict[str, Column]] = {uid: {} for uid in self.nodes}
        for column in self.columns:
            index[column.unique_id][column.name] = column
        return index

    def source_column(self, schema: str, table: str, column: str) -> Column | None:
        """The column of the source landed as schema.table (for the PII scan)."""
        for uid, node in self.nodes.items():
            if node["resource_type"] != "source":
                continue
            if (node["schema"].lower(), node["identifier"].lower()) == (schema, table):
                for candidate in self.columns:
                    if candidate.unique_id == uid and candidate.name.lower() == column:
                        return candidate
        return None

    def seed_column(self, seed: str, column: str) -> Column | None:
        for candidate in self.columns:
            if (
                candidate.resource_type == "seed"
                and candidate.relation == seed
                and candidate.name.lower() == column
            ):
                return candidate
        return None

    def source_yaml(self, schema: str, table: str) -> str | None:
        for node in self.nodes.values():
            if node["resource_type"] == "source" and (
                node["schema"].lower(),
                node["identifier"].lower(),
            ) == (schema, table):
                return node["yaml_file"]
        return None

    def seed_yaml(self, seed: str) -> str | None:
        for node in self.nodes.values():
            if node["resource_type"] == "seed" and node["relation"] == seed:
                return node["yaml_file"]
        return None

    def display(self, relative: str | None) -> str:
        """A path of the dbt project as the user types it (relative to the cwd if inside)."""
        if relative is None:
            return "(no YAML file)"
        path = (self.project_dir / relative).resolve()
        try:
            return str(path.relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)


# --------------------------------------------------------------------------- inputs


def default_project_dir() -> Path:
    return Path(os.environ.get("DBT_PROJECT_DIR") or ROOT / "dbt")


def default_manifest(project_dir: Path) -> Path:
    target = os.environ.get("DBT_TARGET_PATH")
    if target:
        target_path = Path(target)
        return (target_path if target_path.is_absolute() else project_dir / target_path) / (
            "manifest.json"
        )
    return project_dir / "target" / "manifest.json"


def load_policy(path: Path = DEFAULT_POLICY) -> dict[str, Any]:
    """policy.yml, validated: levels with distinct integer ranks and every handling rule."""
    try:
        policy = yaml.safe_load(path.read_text())
    except OSError as error:
        raise SetupError(f"cannot read the policy {path}: {error}") from error
    except yaml.YAMLError as error:
        raise SetupError(f"the policy {path} is not valid YAML: {error}") from error
    levels = policy.get("levels") if isinstance(policy, dict) else None
    if not isinstance(levels, dict) or not levels:
        raise SetupError(f"the policy {path} has no `levels:` mapping")
    problems = []
    for name, level in levels.items():
        if not isinstance(level, dict) or not isinstance(level.get("rank"), int):
            problems.append(f"level {name!r} needs an integer `rank`")
            continue
        missing = [rule for rule in HANDLING_RULES if not level.get(rule)]
        if missing:
            problems.append(f"level {name!r} lacks the handling rules {missing}")
    ranks = [level.get("rank") for level in levels.values() if isinstance(level, dict)]
    if len(set(ranks)) != len(ranks):
        problems.append("two levels share a rank: give each level its own")
    if problems:
        raise SetupError(f"the policy {path} is incomplete: " + "; ".join(problems))
    policy.setdefault("enforcement", {})
    return policy


def stale_sources(manifest: Path, project_dir: Path) -> list[Path]:
    """YAML and SQL files of the dbt project changed after the manifest was written."""
    written = manifest.stat().st_mtime
    skip = {"target", "logs", "dbt_packages", ".venv"}
    newer = []
    for path in project_dir.rglob("*"):
        if path.suffix not in {".yml", ".yaml", ".sql"} or skip & set(
            path.relative_to(project_dir).parts
        ):
            continue
        if path.stat().st_mtime > written:
            newer.append(path)
    return sorted(newer)


def load_manifest(path: Path, project_dir: Path, *, fresh: bool = True) -> dict[str, Any]:
    if not path.is_file():
        raise SetupError(f"no dbt manifest at {path}: {PARSE_HINT}")
    if fresh:
        newer = stale_sources(path, project_dir)
        if newer:
            raise SetupError(
                f"{path} is older than {newer[0]}"
                + (f" and {len(newer) - 1} more file(s)" if len(newer) > 1 else "")
                + f": the classification may have changed; {PARSE_HINT}"
            )
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SetupError(f"cannot read {path} ({error}): {PARSE_HINT}") from error
    if not isinstance(manifest, dict) or "nodes" not in manifest or "sources" not in manifest:
        raise SetupError(f"{path} is not a dbt manifest: {PARSE_HINT}")
    return manifest


def _strip_project(patch_path: str | None) -> str | None:
    """'my_project://models/marts/_marts.yml' -> 'models/marts/_marts.yml'."""
    if not patch_path:
        return None
    return patch_path.split("://", 1)[-1]


def _meta(column: dict[str, Any]) -> dict[str, Any]:
    meta = dict(column.get("meta") or {})
    meta.update((column.get("config") or {}).get("meta") or {})
    return meta


def catalog(manifest: dict[str, Any], project_dir: Path) -> Catalog:
    """Every column of the project's sources, seeds, snapshots and models."""
    project = manifest.get("metadata", {}).get("project_name")
    columns: list[Column] = []
    nodes: dict[str, dict[str, Any]] = {}
    for uid, node in [*manifest["nodes"].items(), *manifest["sources"].items()]:
        kind = node.get("resource_type")
        if kind not in RESOURCE_TYPES or (project and node.get("package_name") != project):
            continue
        node_path = node["original_file_path"]
        if kind == "source":
            relation = f"{node['source_name']}.{node['name']}"
            yaml_file: str | None = node_path
        else:
            relation = node["name"]
            yaml_file = _strip_project(node.get("patch_path"))
            if yaml_file is None and node_path.endswith((".yml", ".yaml")):
                yaml_file = node_path  # a snapshot defined in YAML
        nodes[uid] = {
            "resource_type": kind,
            "relation": relation,
            "node_path": node_path,
            "yaml_file": yaml_file,
            "schema": node.get("schema") or "",
            "identifier": node.get("identifier") or node.get("alias") or node["name"],
            "depends_on": list((node.get("depends_on") or {}).get("nodes") or []),
        }
        node_meta = _meta(node)
        for name, column in (node.get("columns") or {}).items():
            meta = _meta(column)
            level = meta.get("classification")
            columns.append(
                Column(
                    resource_type=kind,
                    relation=relation,
                    name=column.get("name") or name,
                    classification=None if level in (None, "") else str(level),
                    owner=meta.get("owner") or node_meta.get("owner"),
                    yaml_file=yaml_file,
                    node_path=node_path,
                    unique_id=uid,
                    meta=meta,
                )
            )
    columns.sort(key=lambda c: (RESOURCE_TYPES.index(c.resource_type), c.relation))
    return Catalog(project_dir=project_dir, columns=columns, nodes=nodes)


# --------------------------------------------------------------------------- rules


def _bare(name: str) -> str:
    """Column names match across layers without the replication prefix (_is_deleted)."""
    return name.lower().lstrip("_")


def inherited_levels(cat: Catalog, policy: dict[str, Any]) -> dict[tuple[str, str], Column]:
    """(node, column) -> the strictest classified same-named column it is built from.

    Walks depends_on upwards by column name; passes through an upstream column that is
    declared but unclassified, and through an upstream node that declares no columns.
    """
    ranks = {name: level["rank"] for name, level in policy["levels"].items()}
    index = {uid: {_bare(n): c for n, c in cols.items()} for uid, cols in cat.by_node().items()}
    memo: dict[tuple[str, str], Column | None] = {}

    def strictest(uid: str, bare: str, seen: frozenset[str]) -> Column | None:
        if (uid, bare) in memo:
            return memo[(uid, bare)]
        best: Column | None = None
        for up in cat.nodes.get(uid, {}).get("depends_on", []):
            if up not in cat.nodes or up in seen:
                continue
            declared = index.get(up, {})
            column = declared.get(bare)
            if column is not None and column.classification in ranks:
                found: Column | None = column
            elif column is not None or not declared:
                found = strictest(up, bare, seen | {up})
            else:
                found = None
            if found is not None and (
                best is None or ranks[found.classification] > ranks[best.classification]
            ):
                best = found
        memo[(uid, bare)] = best
        return best

    result = {}
    for column in cat.columns:
        found = strictest(column.unique_id, _bare(column.name), frozenset({column.unique_id}))
        if found is not None:
            result[(column.unique_id, column.name)] = found
    return result


def is_required(cat: Catalog, uid: str, policy: dict[str, Any]) -> bool:
    required = policy["enforcement"].get("required") or {}
    node = cat.nodes[uid]
    if node["resource_type"] in (required.get("resource_types") or []):
        return True
    if node["resource_type"] != "model":
        return False
    path = node["node_path"]
    return any(
        path == folder or path.startswith(folder.rstrip("/") + "/")
        for folder in required.get("model_paths") or []
    )


def seed_header(cat: Catalog, uid: str) -> list[str]:
    path = cat.project_dir / cat.nodes[uid]["node_path"]
    try:
        with path.open(newline="") as handle:
            return next(csv.reader(handle), [])
    except OSError:
        return []


def check(cat: Catalog, policy: dict[str, Any]) -> list[str]:
    """Every problem as one line naming the column and the YAML file to fix."""
    levels = policy["levels"]
    ranks = {name: level["rank"] for name, level in levels.items()}
    known = ", ".join(sorted(levels, key=lambda n: -ranks[n]))
    reason_key = policy["enforcement"].get("downgrade_reason_key", "declassified_because")
    problems = []
    declared = cat.by_node()
    for uid, node in cat.nodes.items():
        if not is_required(cat, uid, policy):
            continue
        where = cat.display(node["yaml_file"] or node["node_path"])
        if node["resource_type"] == "seed":
            lowered = {name.lower() for name in declared[uid]}
            for name in seed_header(cat, uid):
                if name.lower() not in lowered:
                    problems.append(
                        f"seed {node['relation']}.{name} has no classification: declare it "
                        f"with `config: {{meta: {{classification: <level>}}}}` in {where}"
                    )
        elif not declared[uid]:
            problems.append(
                f"{node['resource_type']} {node['relation']} declares no columns, so none is "
                f"classified: list its columns with `config: {{meta: {{classification: "
                f"<level>}}}}` in {where if node['yaml_file'] else 'a YAML file next to it'}"
            )
    inherited = inherited_levels(cat, policy) if policy["enforcement"].get("no_downgrade") else {}
    for column in cat.columns:
        where = cat.display(column.yaml_file)
        what = f"{column.resource_type} {column.key}"
        if column.classification is None:
            if is_required(cat, column.unique_id, policy):
                problems.append(
                    f"{what} has no classification: add `config: {{meta: {{classification: "
                    f"<level>}}}}` to it in {where} (levels: {known})"
                )
            continue
        if column.classification not in ranks:
            problems.append(
                f"{what} has the unknown classification {column.classification!r}: use one "
                f"of {known} in {where}"
            )
            continue
        upstream = inherited.get((column.unique_id, column.name))
        if (
            upstream is not None
            and ranks[upstream.classification] > ranks[column.classification]
            and not column.meta.get(reason_key)
        ):
            problems.append(
                f"{what} is {column.classification} but is built from "
                f"{upstream.resource_type} {upstream.key}, which is "
                f"{upstream.classification}: classify it {upstream.classification} in {where}, "
                f"or say why it is less sensitive with meta `{reason_key}: <reason>`"
            )
    return problems


# --------------------------------------------------------------------------- output


def rows(cat: Catalog, policy: dict[str, Any]) -> list[dict[str, Any]]:
    inherited = inherited_levels(cat, policy)
    result = []
    for column in cat.columns:
        row = asdict(column)
        row["yaml_file"] = cat.display(column.yaml_file) if column.yaml_file else None
        upstream = inherited.get((column.unique_id, column.name))
        row["inherited_from"] = upstream.key if upstream and not column.classification else None
        row["effective"] = column.classification or (upstream.classification if upstream else None)
        result.append(row)
    return result


def as_text(table: Iterable[dict[str, Any]]) -> str:
    lines = []
    for row in table:
        level = row["classification"] or (
            f"({row['effective']} from {row['inherited_from']})" if row["effective"] else "-"
        )
        lines.append(
            f"{row['resource_type']:<8} {row['relation'] + '.' + row['name']:<48} {level:<14} "
            f"{row['yaml_file'] or ''}"
        )
    return "\n".join(lines)


def as_markdown(table: list[dict[str, Any]], policy: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for row in table:
        counts[row["effective"] or "unclassified"] = (
            counts.get(row["effective"] or "unclassified", 0) + 1
        )
    lines = [
        "# Column classification",
        "",
        "Generated by `security/data_classification/classify.py` from dbt's manifest; "
        "do not edit: change the column meta in the YAML file named on each row.",
        "",
        "| level | columns | readers |",
        "|---|---|---|",
    ]
    for name, level in sorted(policy["levels"].items(), key=lambda item: -item[1]["rank"]):
        lines.append(f"| {name} | {counts.get(name, 0)} | {level['readers']} |")
    if counts.get("unclassified"):
        lines.append(f"| unclassified | {counts['unclassified']} | |")
    lines += ["", "| type | column | classification | owner | YAML |", "|---|---|---|---|---|"]
    for row in table:
        level = row["classification"] or (
            f"{row['effective']} (inherited from `{row['inherited_from']}`)"
            if row["effective"]
            else "-"
        )
        lines.append(
            f"| {row['resource_type']} | `{row['relation']}.{row['name']}` | {level} | "
            f"{row['owner'] or ''} | {row['yaml_file'] or ''} |"
        )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="classify.py",
        description=(
            "List the classification of every column of the dbt project (sources, seeds, "
            "snapshots, models), read from dbt's manifest.json; with --check, enforce "
            "policy.yml."
        ),
        epilog=(
            "Exit status: 0 fine, 1 --check found problems (each names the column and the "
            "YAML file to fix), 2 setup error (no or stale manifest: run dbt parse). "
            "Examples: classify.py --check; classify.py --output .local/columns.md"
        ),
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        help="the dbt project; default $DBT_PROJECT_DIR, else dbt/ of this repository",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        help="dbt's manifest.json; default $DBT_TARGET_PATH/manifest.json, else "
        "<project-dir>/target/manifest.json",
    )
    parser.add_argument("--policy", type=Path, default=DEFAULT_POLICY, help="the policy YAML")
    parser.add_argument("--check", action="store_true", help="enforce the policy (exit 1)")
    parser.add_argument(
        "--output",
        type=Path,
        help="write the list to this file: Markdown for .md, JSON for .json",
    )
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="format of the list on stdout (without --check and --output)",
    )
    parser.add_argument(
        "--allow-stale",
        action="store_true",
        help="use the manifest even when YAML or SQL files are newer than it",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    project_dir = (args.project_dir or default_project_dir()).resolve()
    manifest_path = args.manifest or default_manifest(project_dir)
    try:
        policy = load_policy(args.policy)
        manifest = load_manifest(manifest_path, project_dir, fresh=not args.allow_stale)
        cat = catalog(manifest, project_dir)
    except SetupError as error:
        print(f"classify.py: {error}", file=sys.stderr)
        return 2
    table = rows(cat, policy)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        if args.output.suffix == ".json":
            args.output.write_text(json.dumps(table, indent=2) + "\n")
        else:
            args.output.write_text(as_markdown(table, policy))
        print(f"wrote the classification of {len(table)} columns to {args.output}")
    if args.check:
        problems = check(cat, policy)
        if problems:
            print(
                f"classify.py --check: {len(problems)} problem(s) with the column "
                f"classification (policy: {args.policy.name}):",
                file=sys.stderr,
            )
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
            return 1
        required = sum(1 for c in cat.columns if is_required(cat, c.unique_id, policy))
        print(
            f"classify.py --check: all {required} required columns classified "
            f"({len(cat.columns)} columns in all), every level known, no downgrades"
        )
        return 0
    if not args.output:
        if args.format == "json":
            print(json.dumps(table, indent=2))
        elif args.format == "markdown":
            print(as_markdown(table, policy), end="")
        else:
            print(as_text(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
