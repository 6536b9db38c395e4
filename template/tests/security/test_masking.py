"""Masking policies on every pii column (dbt/macros/masking_policies.sql), without Snowflake.

Neither DuckDB nor the fakesnow emulator has masking policies, so no policy is created here.
Instead `dbt run-operation print_masking_policies` renders, on the DuckDB target, the Snowflake
SQL that the post-hook runs on a Snowflake target, and the tests hold it against dbt's
manifest: one CREATE MASKING POLICY and one ALTER ... SET MASKING POLICY for each pii column of
every model and snapshot, the reader role from dbt_project.yml, and masks that hide the value
(evaluated as SQL). A build on a scratch DuckDB file then shows the post-hook's DuckDB side:
it logs what it skips and runs no masking SQL; so does `dbt run-operation
apply_masking_policies`, the same macro for the whole project.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require

CREATE = re.compile(
    r"create masking policy if not exists (?P<policy>\S+) as \(val (?P<type>\w+)\) "
    r"returns (?P<returns>\w+) -> (?P<body>case when is_role_in_session\('(?P<reader>[A-Z0-9_]+)'\)"
    r" then val else (?P<masked>.+) end) comment = '[^']*'"
)
SET_BODY = re.compile(r"alter masking policy (?P<policy>\S+) set body -> (?P<body>case .+ end)")
SET_POLICY = re.compile(
    r"alter (?P<kind>table|view|materialized view) (?P<relation>\S+) modify column (?P<column>\w+)"
    r" set masking policy (?P<policy>\S+) force"
)
#: What a mask may show of a sample value: (value, what the mask must return).
SAMPLES = {
    "email": ("ada.lovelace@example.com", "***@example.com"),
    "phone": ("+49 170 1234567", "***67"),
    "text": ("Ada", "***"),
}


def run_dbt(root: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    bin_dirs = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    dbt = shutil.which("dbt", path=bin_dirs)
    require(dbt is not None, "dbt")
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(root / "dbt"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_DUCKDB_PATH": str(work / "warehouse.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    env.pop("DBT_SCHEMA_PREFIX", None)
    command = [str(dbt), *args, "--project-dir", str(root / "dbt"), "--target", "ci"]
    result = subprocess.run(
        command, env=env, cwd=work, capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result


@pytest.fixture(scope="module")
def printed(root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The statements print_masking_policies prints, and the manifest of that run."""
    work = tmp_path_factory.mktemp("masking")
    result = run_dbt(root, work, "run-operation", "print_masking_policies", "--quiet")
    statements = [line.strip().removesuffix(";") for line in result.stdout.splitlines()]
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return {"statements": [s for s in statements if s], "manifest": manifest}


def pii_columns(manifest: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(kind, relation, column, data_type) of each pii column of a built model or snapshot."""
    project = manifest["metadata"]["project_name"]
    found = []
    for node in manifest["nodes"].values():
        materialized = node["config"].get("materialized")
        if (
            node["resource_type"] not in {"model", "snapshot"}
            or node["package_name"] != project
            or materialized == "ephemeral"
        ):
            continue
        relation = f"{node['database']}.{node['schema']}.{node['alias']}"
        kind = {"view": "view", "materialized_view": "materialized view"}.get(materialized, "table")
        for name, column in node["columns"].items():
            if column["meta"].get("classification") == "pii":
                found.append((kind, relation, name, column.get("data_type") or "varchar"))
    return found


def parsed(statements: list[str]) -> dict[str, list[re.Match[str]]]:
    kinds: dict[str, list[re.Match[str]]] = {"create": [], "body": [], "set": []}
    unknown = []
    for statement in statements:
        for kind, pattern in (("create", CREATE), ("body", SET_BODY), ("set", SET_POLICY)):
            match = pattern.fullmatch(statement)
            if match:
                kinds[kind].append(match)
                break
        else:
            unknown.append(statement)
    assert not unknown, (
        f"print_masking_policies printed statements the test does not know: {unknown}"
    )
    return kinds


def test_every_pii_column_gets_a_policy_and_nothing_else_does(printed: dict[str, Any]) -> None:
    expected = pii_columns(printed["manifest"])
    assert expected, "no model or snapshot has a pii column: the test would prove nothing"
    kinds = parsed(printed["statements"])

    applied = collections.Counter((m["kind"], m["relation"], m["column"]) for m in kinds["set"])
    wanted = collections.Counter((kind, relation, column) for kind, relation, column, _ in expected)
    assert applied == wanted, (
        "exactly one ALTER ... SET MASKING POLICY per pii column: "
        f"missing {sorted(wanted - applied)}, extra {sorted(applied - wanted)}"
    )

    created = collections.Counter(m["policy"] for m in kinds["create"])
    bodies = collections.Counter(m["policy"] for m in kinds["body"])
    used = {m["policy"] for m in kinds["set"]}
    assert set(created) == used == set(bodies), "every policy used is created, none is unused"
    assert all(n == 1 for n in [*created.values(), *bodies.values()]), "one CREATE per policy"
    # One policy per schema and column name: here that is one per pii column.
    per_schema = {(r.rsplit(".", 1)[0], c) for _, r, c, _ in expected}
    assert len(created) == len(per_schema)
    for match in kinds["set"]:
        schema = match["relation"].rsplit(".", 1)[0]
        assert match["policy"] == f"{schema}.pii_mask_{match['column']}", match.group(0)


def test_policies_show_values_to_the_reader_role_only(root: Path, printed: dict[str, Any]) -> None:
    project = yaml.safe_load((root / "dbt" / "dbt_project.yml").read_text())
    reader = str(project["vars"]["pii_reader_role"]).upper()
    assert reader.endswith("_PII_READER")
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    if "snowflake_role_prefix" in answers:
        assert reader == f"{answers['snowflake_role_prefix']}_PII_READER"

    kinds = parsed(printed["statements"])
    types = {(r, c): t for _, r, c, t in pii_columns(printed["manifest"])}
    for create in kinds["create"]:
        assert create["reader"] == reader, create.group(0)
        assert create["type"] == create["returns"], "a policy returns the type it masks"
        assert create["masked"].strip() != "val", f"{create['policy']} masks nothing"
    body_of = {m["policy"]: m["body"] for m in kinds["body"]}
    for create in kinds["create"]:
        assert body_of[create["policy"]] == create["body"], "SET BODY repeats the CREATE's body"
    for match in kinds["set"]:
        policy = next(c for c in kinds["create"] if c["policy"] == match["policy"])
        text = types[(match["relation"], match["column"])].lower().startswith(("varchar", "text"))
        assert (policy["type"] == "string") == text, (
            f"{match['column']}: policy type {policy['type']}"
        )


def evaluate(expressions: list[str], value: str) -> list[Any]:
    """Evaluate SQL expressions of `val` as Snowflake would: on fakesnow when installed."""
    select = ", ".join(f"{expression} as c{i}" for i, expression in enumerate(expressions))
    sql = f"select {select} from (select %s as val)"
    try:
        import fakesnow
        import snowflake.connector
    except ImportError:  # no snowflake component: DuckDB runs these string functions alike
        import duckdb

        with duckdb.connect() as connection:
            return list(connection.execute(sql.replace("%s", "?"), [value]).fetchone() or [])
    with fakesnow.patch(), snowflake.connector.connect() as connection:
        return list(connection.cursor().execute(sql, (value,)).fetchone() or [])


@pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result:UserWarning")
def test_masks_hide_the_value(printed: dict[str, Any]) -> None:
    kinds = parsed(printed["statements"])
    masks = {
        c["policy"].rsplit(".", 1)[1]: c["masked"] for c in kinds["create"] if c["type"] == "string"
    }
    assert masks, "no text column has a policy"
    for policy, masked in sorted(masks.items()):
        kind = "email" if "email" in policy else "phone" if "phone" in policy else "text"
        value, shown = SAMPLES[kind]
        assert evaluate([masked], value) == [shown], f"{policy} shows {masked!r} of {value!r}"


def test_the_post_hook_runs_no_masking_sql_on_duckdb(
    root: Path, printed: dict[str, Any], tmp_path: Path
) -> None:
    manifest = printed["manifest"]
    nodes = sorted({r.rsplit(".", 1)[1] for _, r, _, _ in pii_columns(manifest)})
    for node in manifest["nodes"].values():
        if node["name"] in nodes:
            hooks = [hook["sql"] for hook in node["config"]["post-hook"]]
            assert any("apply_masking_policies()" in hook for hook in hooks), (
                f"{node['name']} has pii columns but not the masking post-hook: {hooks}"
            )

    script = root / "scripts" / "utilities" / "generate_data.py"
    database = tmp_path / "warehouse.duckdb"
    cmd = [sys.executable, str(script), "--database", str(database), "--scale", "0.01"]
    landed = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    assert landed.returncode == 0, landed.stdout + landed.stderr
    selection = [f"+{name}" for name in nodes]
    run_dbt(
        root,
        tmp_path,
        "build",
        "--select",
        *selection,
        "--exclude",
        "resource_type:test",
        "resource_type:unit_test",
        "--quiet",
    )
    log = (tmp_path / "logs" / "dbt.log").read_text()
    for name in nodes:
        assert f"masking policies of {name}: not applied (target type duckdb" in log, name
    assert not re.search(r"(create|alter) masking policy|set masking policy", log, re.I), (
        "masking SQL reached DuckDB"
    )


def test_the_run_operation_runs_nothing_on_duckdb(
    root: Path, printed: dict[str, Any], tmp_path: Path
) -> None:
    result = run_dbt(root, tmp_path, "run-operation", "apply_masking_policies")
    count = len(printed["statements"])
    assert (
        "masking policies of the project: not applied (target type duckdb" in result.stdout
        and f"on Snowflake they would run {count} statements" in result.stdout
    ), result.stdout[-3000:]
    log = (tmp_path / "logs" / "dbt.log").read_text()
    assert not re.search(r"(create|alter) masking policy|set masking policy", log, re.I)
