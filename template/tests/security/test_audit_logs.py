"""The audit models (dbt/models/audit/, security/audit_logs/) and Airflow's audit settings.

The models read Snowflake's SNOWFLAKE.ACCOUNT_USAGE, which exists only on Snowflake: on the
DuckDB targets they and their sources must be disabled (so `make demo` and the pipeline test
never touch them), and `dbt parse --target prod` (no connection) must enable them in the
schema security/audit_logs/snowflake_setup.sql creates. On the fakesnow emulator a stand-in
ACCOUNT_USAGE with a few rows lets `dbt build` create the three views for real and shows that
audit_column_access classifies a read of a pii column from dbt's catalog.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, require

MODELS = {"audit_login_history", "audit_query_history", "audit_column_access"}
SOURCES = {"login_history", "query_history", "access_history"}
CLASSIFICATIONS = {"pii", "confidential", "internal", "public"}
PROFILES = yaml.safe_load((ROOT / "dbt" / "profiles.yml").read_text())
SNOWFLAKE_TARGETS = sorted(
    name
    for profile in PROFILES.values()
    for name, output in profile["outputs"].items()
    if output["type"] == "snowflake"
)
no_snowflake = pytest.mark.skipif(
    not SNOWFLAKE_TARGETS, reason="no Snowflake target: the snowflake component is not chosen"
)


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def dbt_executable() -> str:
    bin_dirs = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    dbt = shutil.which("dbt", path=bin_dirs)
    require(dbt is not None, "dbt")
    return str(dbt)


def answers() -> dict[str, Any]:
    return yaml.safe_load((ROOT / ".copier-answers.yml").read_text())


def snowflake_env(work: Path) -> dict[str, str]:
    """The prod output's variables: dummies, `dbt parse` never connects."""
    given = answers()
    role = given.get("snowflake_role_prefix", "X")
    return {
        "SNOWFLAKE_ACCOUNT": "parse-only",
        "SNOWFLAKE_USER": f"{role}_TRANSFORMER_SVC",
        "SNOWFLAKE_PRIVATE_KEY_PATH": str(work / "no-key.p8"),
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": "",
        "SNOWFLAKE_ROLE": f"{role}_TRANSFORMER",
        "SNOWFLAKE_WAREHOUSE": f"{role}_TRANSFORMING_WH",
        "SNOWFLAKE_DATABASE": f"{given.get('snowflake_database_prefix', 'X')}_PROD",
    }


def parse(work: Path, target: str) -> dict[str, Any]:
    env = {
        **os.environ,
        **snowflake_env(work),
        "DBT_PROFILES_DIR": str(ROOT / "dbt"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_DUCKDB_PATH": str(work / "unused.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    env.pop("DBT_SCHEMA_PREFIX", None)
    result = subprocess.run(
        [dbt_executable(), "parse", "--project-dir", str(ROOT / "dbt"), "--target", target],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((work / "target" / "manifest.json").read_text())


def audit_nodes(nodes: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(audit models, account_usage sources) among manifest nodes or disabled entries."""
    models, sources = set(), set()
    for unique_id, node in nodes.items():
        node = node[0] if isinstance(node, list) else node
        if unique_id.startswith("model.") and node["name"] in MODELS:
            models.add(node["name"])
        if unique_id.startswith("source.") and node["source_name"] == "account_usage":
            sources.add(node["name"])
    return models, sources


@pytest.fixture(scope="module")
def ci_manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return parse(tmp_path_factory.mktemp("audit_ci"), "ci")


def test_audit_models_are_disabled_on_duckdb(ci_manifest: dict[str, Any]) -> None:
    enabled = audit_nodes({**ci_manifest["nodes"], **ci_manifest["sources"]})
    assert enabled == (set(), set()), f"enabled on DuckDB: {enabled}"
    assert audit_nodes(ci_manifest["disabled"]) == (MODELS, SOURCES)


def test_audit_columns_are_described_and_classified(ci_manifest: dict[str, Any]) -> None:
    owner = answers()["owner"]
    problems = []
    for entries in ci_manifest["disabled"].values():
        node = entries[0]
        if node["name"] not in MODELS | SOURCES:
            continue
        assert node["columns"], f"{node['name']} lists no columns"
        for name, column in node["columns"].items():
            meta = column["meta"]
            if not column["description"].strip():
                problems.append(f"{node['name']}.{name}: no description")
            if meta.get("owner") != owner or meta.get("classification") not in CLASSIFICATIONS:
                problems.append(f"{node['name']}.{name}: meta {meta}")
    assert not problems, problems


@no_snowflake
@pytest.mark.parametrize("target", SNOWFLAKE_TARGETS)
def test_audit_models_are_enabled_on_snowflake(tmp_path: Path, target: str) -> None:
    require(installed("dbt.adapters.snowflake"), "dbt-snowflake")
    manifest = parse(tmp_path, target)
    assert audit_nodes({**manifest["nodes"], **manifest["sources"]}) == (MODELS, SOURCES)
    models = [n for n in manifest["nodes"].values() if n["name"] in MODELS]
    assert {(n["schema"], n["config"]["materialized"]) for n in models} == {("audit", "view")}
    sources = [s for s in manifest["sources"].values() if s["source_name"] == "account_usage"]
    assert {(s["database"].upper(), s["schema"].upper()) for s in sources} == {
        ("SNOWFLAKE", "ACCOUNT_USAGE")
    }

    setup = (ROOT / "security" / "audit_logs" / "snowflake_setup.sql").read_text()
    created = set(re.findall(r"create schema if not exists (\S+)", setup, re.I))
    database = snowflake_env(tmp_path)["SNOWFLAKE_DATABASE"]
    assert created == {f"{database}.{models[0]['schema'].upper()}"}, (
        "snowflake_setup.sql must create the schema the audit models are built in"
    )


#: The stand-in ACCOUNT_USAGE: the columns the sources document, a few rows.
ACCOUNT_USAGE = {
    "LOGIN_HISTORY": (
        "event_id number, event_timestamp timestamp_ltz, event_type varchar, user_name varchar, "
        "client_ip varchar, reported_client_type varchar, reported_client_version varchar, "
        "first_authentication_factor varchar, second_authentication_factor varchar, "
        "is_success varchar, error_code number, error_message varchar",
        [
            "1, current_timestamp(), 'LOGIN', 'JDOE', '192.0.2.1', 'PYTHON_DRIVER', '4.0', "
            "'KEY_PAIR', null, 'YES', null, null",
            "2, current_timestamp(), 'LOGIN', 'JDOE', '192.0.2.1', 'SNOWFLAKE_UI', '1', "
            "'PASSWORD', null, 'NO', 390100, 'Incorrect username or password was specified.'",
        ],
    ),
    "QUERY_HISTORY": (
        "query_id varchar, session_id number, start_time timestamp_ltz, end_time timestamp_ltz, "
        "user_name varchar, role_name varchar, warehouse_name varchar, database_name varchar, "
        "schema_name varchar, query_type varchar, execution_status varchar, error_code varchar, "
        "error_message varchar, total_elapsed_time number, bytes_scanned number, "
        "rows_produced number, query_tag varchar, query_text varchar",
        [
            "'q1', 7, current_timestamp(), current_timestamp(), 'JDOE', 'REPORTER', 'WH', 'DB', "
            "'MARTS', 'SELECT', 'SUCCESS', null, null, 120, 2048, 10, '', "
            "'select email from dim_customers'",
        ],
    ),
    "ACCESS_HISTORY": (
        "query_id varchar, query_start_time timestamp_ltz, user_name varchar, "
        "base_objects_accessed array",
        [],  # rows with JSON: inserted by the test, which knows the database name
    ),
}


@contextlib.contextmanager
def fakesnow_server(work: Path) -> Iterator[dict[str, Any]]:
    """A fakesnow server in a process of its own; yields the connector's arguments.

    Not `fakesnow.server()` in this process: in fakesnow 0.12.1 its first call imports the
    module fakesnow.server, which then hides the function from the emulator test.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (work / "fakesnow.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "fakesnow", "--server", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (work / "fakesnow.log").read_text()
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "fakesnow did not start within 60 s"
            time.sleep(0.2)
        yield {
            "user": "fake",
            "password": secrets.token_hex(8),  # fakesnow takes any
            "account": "fakesnow",
            "host": "127.0.0.1",
            "port": port,
            "protocol": "http",
            "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
            "network_timeout": 5,
        }
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@no_snowflake
def test_audit_models_build_on_emulated_snowflake(tmp_path: Path) -> None:
    for module, package in (
        ("dbt.adapters.snowflake", "dbt-snowflake"),
        ("fakesnow", "fakesnow"),
        ("uvicorn", "fakesnow[server]"),
    ):
        require(installed(module), package)
    import snowflake.connector

    database = snowflake_env(tmp_path)["SNOWFLAKE_DATABASE"]
    with fakesnow_server(tmp_path) as server:
        with snowflake.connector.connect(**server) as connection:
            cursor = connection.cursor()
            for sql in (
                "create database if not exists SNOWFLAKE",
                "create schema if not exists SNOWFLAKE.ACCOUNT_USAGE",
                f"create database if not exists {database}",
            ):
                cursor.execute(sql)
            for table, (columns, rows) in ACCOUNT_USAGE.items():
                cursor.execute(f"create table SNOWFLAKE.ACCOUNT_USAGE.{table} ({columns})")
                for row in rows:
                    cursor.execute(f"insert into SNOWFLAKE.ACCOUNT_USAGE.{table} select {row}")
            objects = [
                {
                    "objectDomain": "Table",
                    "objectName": f"{database}.MARTS.DIM_CUSTOMERS",
                    "columns": [{"columnName": "EMAIL"}, {"columnName": "CUSTOMER_ID"}],
                },
                {
                    "objectDomain": "Table",
                    "objectName": "OTHER_DB.PUBLIC.NOT_DBT",
                    "columns": [{"columnName": "X"}],
                },
            ]
            cursor.execute(
                "insert into SNOWFLAKE.ACCOUNT_USAGE.ACCESS_HISTORY "
                "select 'q1', current_timestamp(), 'JDOE', parse_json(%s)",
                (json.dumps(objects),),
            )

        profile_name = yaml.safe_load((ROOT / "dbt" / "dbt_project.yml").read_text())["profile"]
        prod = dict(PROFILES[profile_name]["outputs"][SNOWFLAKE_TARGETS[0]])
        for auth in ("authenticator", "private_key", "private_key_path", "private_key_passphrase"):
            prod.pop(auth, None)
        prod.update(
            {key: server[key] for key in ("account", "user", "password", "host", "port")},
            protocol=server["protocol"],
            database=database,
            connect_retries=0,
        )
        profiles = tmp_path / "profiles"
        profiles.mkdir()
        profile = {profile_name: {"target": "emulator", "outputs": {"emulator": prod}}}
        (profiles / "profiles.yml").write_text(yaml.safe_dump(profile, sort_keys=False))
        env = {
            **os.environ,
            **snowflake_env(tmp_path),  # the output's role, warehouse, ... (fakesnow ignores them)
            "DBT_TARGET_PATH": str(tmp_path / "target"),
            "DBT_LOG_PATH": str(tmp_path / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        }
        for variable in ("DBT_SCHEMA_PREFIX", "DBT_PROFILES_DIR", "DBT_PROJECT_DIR", "DBT_TARGET"):
            env.pop(variable, None)
        command = [
            dbt_executable(),
            "build",
            "--project-dir",
            str(ROOT / "dbt"),
            "--profiles-dir",
            str(profiles),
            "--select",
            *sorted(MODELS),
            # fakesnow has no masking policies (test_masking.py checks their SQL).
            "--vars",
            "{apply_masking_policies: false}",
        ]
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False, timeout=180
        )
        assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]

        with snowflake.connector.connect(**server, database=database) as connection:
            cursor = connection.cursor()
            logins = cursor.execute(
                "select event_id, is_success from AUDIT.audit_login_history order by 1"
            ).fetchall()
            queries = cursor.execute("select count(*) from AUDIT.audit_query_history").fetchall()
            reads = cursor.execute(
                "select object_name, column_name, classification, column_owner"
                " from AUDIT.audit_column_access order by 1, 2"
            ).fetchall()
    assert logins == [(1, True), (2, False)]
    assert queries == [(1,)]
    owner = answers()["owner"]
    assert sorted(reads) == sorted(
        [
            (f"{database}.MARTS.DIM_CUSTOMERS", "CUSTOMER_ID", "internal", owner),
            (f"{database}.MARTS.DIM_CUSTOMERS", "EMAIL", "pii", owner),
            ("OTHER_DB.PUBLIC.NOT_DBT", "X", None, None),
        ]
    )


AIRFLOW_SETTINGS = ROOT / "security" / "audit_logs" / "airflow_audit.env"


def env_lines(path: Path) -> dict[str, str]:
    settings = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    return settings


@pytest.mark.skipif(not AIRFLOW_SETTINGS.exists(), reason="no Airflow in this repository")
def test_airflow_audit_settings_are_real_and_applied() -> None:
    require(installed("airflow"), "apache-airflow")
    spec = importlib.util.find_spec("airflow")
    assert spec and spec.origin
    options = yaml.safe_load(
        (Path(spec.origin).parent / "config_templates" / "config.yml").read_text()
    )
    settings = env_lines(AIRFLOW_SETTINGS)
    assert settings, "airflow_audit.env sets nothing"
    for key in settings:
        _, section, option = key.lower().split("__", 2)
        assert option in (options.get(section) or {}).get("options", {}), (
            f"{key}: Airflow has no option [{section}] {option}"
        )
    applied = env_lines(ROOT / "airflow" / "config" / "airflow.env")
    differing = {k: (v, applied.get(k)) for k, v in settings.items() if applied.get(k) != v}
    assert not differing, (
        f"airflow/config/airflow.env must set these as airflow_audit.env: {differing}"
    )
