"""The Replicate tasks and source mappings of qlik/: valid, and in agreement with dbt and Snowflake.

Replicate is licensed and cannot run offline, so the task exports are checked against the
project's own JSON Schema of Replicate's export format (qlik/schemas/), and what they land in
RAW is compared with what dbt reads (dbt/models/staging/_sources.yml), with the data
generator's tables and with the Snowflake scripts that create the loader's user and role.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
TASKS = sorted((ROOT / "qlik" / "replication_tasks").glob("*.json"))
MAPPINGS = sorted((ROOT / "qlik" / "source_mappings").glob("*.yml"))
TASK_SCHEMA = ROOT / "qlik" / "schemas" / "replication_task.schema.json"
MAPPING_SCHEMA = ROOT / "qlik" / "schemas" / "source_mapping.schema.json"
DBT_SOURCES = ROOT / "dbt" / "models" / "staging" / "_sources.yml"
GENERATOR = ROOT / "scripts" / "utilities" / "generate_data.py"
SNOWFLAKE = ROOT / "snowflake"

#: Data generator (DuckDB) type -> the Snowflake type Replicate must create for it.
GENERATOR_TYPES = {
    "BIGINT": "NUMBER(19,0)",
    "INTEGER": "NUMBER(10,0)",
    "BOOLEAN": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP_NTZ(6)",
    "VARCHAR": "VARCHAR",
}


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def problems(document: Any, schema_path: Path) -> list[str]:
    """Every schema violation as ``<path in the document>: <message>``."""
    validator = Draft202012Validator(json.loads(schema_path.read_text()))
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]


@cache
def task_document(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


@cache
def mapping(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def tasks() -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, task)
        for path in TASKS
        for task in task_document(path)["cmd.replication_definition"]["tasks"]
    ]


def endpoints(path: Path) -> dict[str, dict[str, Any]]:
    return {db["name"]: db for db in task_document(path)["cmd.replication_definition"]["databases"]}


def mappings_by_source() -> dict[tuple[str, str], tuple[Path, dict[str, Any]]]:
    return {
        (m["source"]["schema"], m["source"]["table"]): (p, m) for p in MAPPINGS if (m := mapping(p))
    }


def test_there_are_tasks_and_mappings() -> None:
    assert TASKS, "qlik/replication_tasks/ holds no task export (*.json)"
    assert MAPPINGS, "qlik/source_mappings/ holds no mapping (*.yml)"


@pytest.mark.parametrize("path", TASKS, ids=[p.name for p in TASKS])
def test_task_export_matches_the_schema(path: Path) -> None:
    found = problems(task_document(path), TASK_SCHEMA)
    assert not found, f"{rel(path)} does not match {rel(TASK_SCHEMA)}:\n" + "\n".join(found)


@pytest.mark.parametrize("path", MAPPINGS, ids=[p.name for p in MAPPINGS])
def test_mapping_matches_the_schema(path: Path) -> None:
    found = problems(mapping(path), MAPPING_SCHEMA)
    assert not found, f"{rel(path)} does not match {rel(MAPPING_SCHEMA)}:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("where", "change", "bad_path"),
    [
        (
            "a password in the target endpoint",
            lambda d: d["cmd.replication_definition"]["databases"][1]["db_settings"].update(
                password="hunter2"
            ),
            "cmd.replication_definition/databases/1/db_settings",
        ),
        (
            "an unknown task setting",
            lambda d: d["cmd.replication_definition"]["tasks"][0]["task_settings"][
                "common_settings"
            ].update(full_load_enabeld=True),
            "cmd.replication_definition/tasks/0/task_settings/common_settings",
        ),
        (
            "a target state Replicate does not know",
            lambda d: d["cmd.replication_definition"]["tasks"][0]["targets"][0][
                "rep_target"
            ].update(target_state="ON"),
            "cmd.replication_definition/tasks/0/targets/0/rep_target/target_state",
        ),
    ],
)
def test_schema_rejects_a_broken_task_copy(
    tmp_path: Path, where: str, change: Any, bad_path: str
) -> None:
    broken = copy.deepcopy(task_document(TASKS[0]))
    change(broken)
    copy_path = tmp_path / TASKS[0].name
    copy_path.write_text(json.dumps(broken))
    found = problems(json.loads(copy_path.read_text()), TASK_SCHEMA)
    assert found, f"the schema accepts {where}"
    assert any(line.startswith(bad_path + ":") for line in found), found


def test_schema_rejects_a_broken_mapping_copy(tmp_path: Path) -> None:
    broken = copy.deepcopy(mapping(MAPPINGS[0]))
    broken["columns"][0]["target_type"] = "NUMBER"  # Snowflake NUMBER needs its precision here
    copy_path = tmp_path / MAPPINGS[0].name
    copy_path.write_text(yaml.safe_dump(broken))
    found = problems(yaml.safe_load(copy_path.read_text()), MAPPING_SCHEMA)
    assert any(line.startswith("columns/0/target_type:") for line in found), found


def test_task_runs_full_load_then_applies_changes() -> None:
    for path, task in tasks():
        settings = task["task_settings"]["common_settings"]
        assert settings["full_load_enabled"] and settings["apply_changes_enabled"], (
            f"{rel(path)}: task {task['task']['name']} must do a full load and apply changes "
            "(dbt reads current rows maintained by upserts)"
        )


@pytest.mark.coherence
def test_task_tables_equal_the_mappings() -> None:
    """Each task replicates exactly the mapped tables, renamed and extended as the mappings say."""
    by_source = mappings_by_source()
    for path, task in tasks():
        selected = {
            (t["owner"], t["name"])
            for t in task["source"]["source_tables"]["explicit_included_tables"]
        }
        assert selected == set(by_source), (
            f"{rel(path)} replicates {sorted(selected)} but qlik/source_mappings/ maps "
            f"{sorted(by_source)}: add or remove the table in both"
        )
        manipulations = {m["name"]: m["table_manipulation"] for m in task["manipulations"]}
        for (schema, table), (map_path, entry) in by_source.items():
            done = manipulations.get(f"{schema}.{table}")
            assert done, f"{rel(path)} has no manipulation for {schema}.{table} ({rel(map_path)})"
            target = (done["new_owner_name"], done["new_table_name"])
            assert target == (entry["target"]["schema"], entry["target"]["table"]), (
                f"{rel(path)} lands {schema}.{table} in {'.'.join(target)}, {rel(map_path)} in "
                f"{entry['target']['schema']}.{entry['target']['table']}: make them the same"
            )
            in_task = {
                c["column_name"]: (
                    c["action"],
                    c["new_column_name"],
                    c.get("computation_expression"),
                )
                for c in done["transform_columns"]
            }
            in_mapping = {c["name"]: ("RENAME", c["target"], None) for c in entry["columns"]}
            in_mapping |= {
                c["name"]: ("ADD", c["target"], c["expression"])
                for c in entry["replication_columns"]
            }
            assert in_task == in_mapping, (
                f"the columns of {schema}.{table} differ between {rel(path)} (transform_columns) "
                f"and {rel(map_path)}: {sorted(set(in_task.items()) ^ set(in_mapping.items()))}; "
                "change both the same way"
            )


@pytest.mark.coherence
def test_mapped_raw_tables_equal_dbt_sources() -> None:
    """What Replicate lands in RAW is exactly what dbt's source `raw` declares."""
    sources = yaml.safe_load(DBT_SOURCES.read_text())["sources"]
    raw = next(s for s in sources if s["name"] == "raw")
    dbt_tables = {t["name"]: [c["name"] for c in t["columns"]] for t in raw["tables"]}
    assert raw["schema"].upper() == "RAW"
    landed = {}
    for path in MAPPINGS:
        entry = mapping(path)
        columns = [c["target"] for c in entry["columns"] + entry["replication_columns"]]
        landed[entry["target"]["table"].lower()] = (path, [c.lower() for c in columns])
    assert set(landed) == set(dbt_tables), (
        f"qlik/source_mappings/ lands {sorted(landed)} in RAW but {rel(DBT_SOURCES)} declares "
        f"{sorted(dbt_tables)}: add a mapping per dbt source table (or the source table to dbt)"
    )
    for table, (path, columns) in landed.items():
        assert columns == dbt_tables[table], (
            f"RAW.{table.upper()}: {rel(path)} lands columns {columns}, {rel(DBT_SOURCES)} "
            f"declares {dbt_tables[table]}: make the column lists (and their order) the same"
        )


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.coherence
def test_mapped_types_match_the_data_generator() -> None:
    """Locally the generator plays Replicate: both must give dbt the same column types."""
    generated = load_module(GENERATOR, "qlik_generate_data").TABLES
    for path in MAPPINGS:
        entry = mapping(path)
        table = entry["target"]["table"].lower()
        ours = {
            c["name"]: c["target_type"] for c in entry["columns"] + entry["replication_columns"]
        }
        for column, duck_type in generated[table]:
            expected = GENERATOR_TYPES.get(duck_type) or re.sub(r"^DECIMAL", "NUMBER", duck_type)
            found = ours.get(column, "(missing)")
            assert found.startswith(expected), (
                f"{table}.{column} is {duck_type} in {rel(GENERATOR)} but {found} in {rel(path)}: "
                f"map it to {expected}"
            )


@pytest.mark.coherence
def test_target_endpoint_uses_the_loader_from_the_snowflake_scripts() -> None:
    """Replicate writes as the loader service user, role and warehouse that snowflake/ creates."""
    scripts_module = load_module(
        ROOT / "tests" / "snowflake" / "snowflake_scripts.py", "qlik_snowflake_scripts"
    )
    scripts = scripts_module.read_scripts(SNOWFLAKE)
    users = rel(SNOWFLAKE / "roles" / "03_users.sql")
    for path in TASKS:
        for endpoint in endpoints(path).values():
            if endpoint["role"] != "TARGET":
                continue
            settings = endpoint["db_settings"]
            user, warehouse, database = (
                settings["username"],
                settings["warehouse"],
                settings["database"],
            )
            role = settings["additionalConnectionProperties"].removeprefix("role=")
            where = f"{rel(path)} (endpoint {endpoint['name']})"
            assert user in scripts.users, (
                f"{where} logs in as {user}, which {users} does not create"
            )
            assert scripts.users[user].get("default_role", "").upper() == role, (
                f"{where} uses role {role}, but {users} gives {user} the default role "
                f"{scripts.users[user].get('default_role')}: use the same role in both"
            )
            assert (role, "USER", user) in scripts.memberships, (
                f"{where} uses role {role}, which {users} does not grant to {user}"
            )
            assert warehouse in scripts.warehouses, (
                f"{where} uses warehouse {warehouse}, which snowflake/warehouses/ does not create"
            )
            assert f"{database}.RAW" in scripts.schemas, (
                f"{where} writes to {database}.RAW, which snowflake/schemas/ does not create"
            )
            held = scripts_module.effective_grants(scripts.grants, scripts.memberships, role)
            needed = {
                ("USAGE", "WAREHOUSE", warehouse),
                ("CREATE TABLE", "SCHEMA", f"{database}.RAW"),
            }
            needed |= {
                (p, "FUTURE TABLES IN SCHEMA", f"{database}.RAW")
                for p in ("INSERT", "UPDATE", "DELETE")
            }
            assert needed <= held, (
                f"{where}: role {role} lacks {sorted(needed - held)} in "
                f"{rel(SNOWFLAKE / 'roles' / '02_grants.sql')}: grant it there"
            )
