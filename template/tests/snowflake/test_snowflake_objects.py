"""The Snowflake setup scripts (snowflake/) create what dbt builds into, and nothing else.

No account is needed: the scripts are parsed (snowflake_scripts.py) and compared with
the dbt project's own view of its schemas, `dbt parse --target prod`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require
from snowflake_scripts import (
    ENVIRONMENTS,
    FUNCTIONAL_ACCESS,
    SYSTEM_ROLES,
    Scripts,
    answers,
    effective_grants,
    expected_grants,
    read_scripts,
    readme_order,
    statements,
)

SIZES = ["XSMALL", "SMALL", "MEDIUM", "LARGE", "XLARGE"]
#: The role each script runs as, in order (snowflake/README.md documents the same).
RUN_AS = {
    "snowflake/warehouses/warehouses.sql": ["SYSADMIN", "ACCOUNTADMIN"],
    "snowflake/schemas/dev.sql": ["SYSADMIN"],
    "snowflake/schemas/prod.sql": ["SYSADMIN"],
    "snowflake/roles/01_roles.sql": ["USERADMIN"],
    "snowflake/roles/02_grants.sql": ["SECURITYADMIN"],
    "snowflake/roles/03_users.sql": ["USERADMIN", "SECURITYADMIN"],
}


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


@pytest.fixture(scope="module")
def names(root: Path) -> dict[str, str]:
    given = answers(root)
    return {
        "db": str(given["snowflake_database_prefix"]),
        "role": str(given["snowflake_role_prefix"]),
        "size": str(given["snowflake_warehouse_size"]),
    }


@pytest.fixture(scope="module")
def scripts(root: Path) -> Scripts:
    return read_scripts(root / "snowflake", readme_order(root / "snowflake" / "README.md"))


@pytest.fixture(scope="module")
def dbt_schemas(
    root: Path, names: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> tuple[set[str], set[str]]:
    """(schemas dbt builds into, schemas its sources read), upper-cased, from its prod target."""
    bin_dirs = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    dbt = shutil.which("dbt", path=bin_dirs)
    require(dbt is not None, "dbt")
    require(installed("dbt.adapters.snowflake"), "dbt-snowflake")
    tmp = tmp_path_factory.mktemp("dbt_prod_parse")
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(root / "dbt"),
        "DBT_TARGET_PATH": str(tmp / "target"),
        "DBT_LOG_PATH": str(tmp / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_DUCKDB_PATH": str(tmp / "unused.duckdb"),
        # The prod profile reads these; `dbt parse` never connects, so dummies do.
        "SNOWFLAKE_ACCOUNT": "parse-only",
        "SNOWFLAKE_USER": f"{names['role']}_TRANSFORMER_SVC",
        "SNOWFLAKE_PRIVATE_KEY_PATH": str(tmp / "no-key.p8"),
        "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": "",
        "SNOWFLAKE_ROLE": f"{names['role']}_TRANSFORMER",
        "SNOWFLAKE_WAREHOUSE": f"{names['role']}_TRANSFORMING_WH",
        "SNOWFLAKE_DATABASE": f"{names['db']}_PROD",
    }
    env.pop("DBT_SCHEMA_PREFIX", None)  # a developer's prefix is for the dev database only
    # Schema AUDIT (security's audit models) is created by security/audit_logs/, not here.
    no_audit = ["--vars", "{build_audit_logs: false}"]
    result = subprocess.run(
        [dbt, "parse", "--project-dir", str(root / "dbt"), "--target", "prod", *no_audit],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((tmp / "target" / "manifest.json").read_text())
    built = {
        node["schema"].upper()
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "seed", "snapshot"}
        and node["config"].get("materialized") != "ephemeral"
    }
    sources = {source["schema"].upper() for source in manifest["sources"].values()}
    return built, sources


def test_scripts_use_only_statements_the_tests_understand(scripts: Scripts) -> None:
    assert not scripts.problems, "\n".join(scripts.problems)


def test_readme_lists_every_script_in_run_order(root: Path) -> None:
    on_disk = sorted(p.relative_to(root).as_posix() for p in (root / "snowflake").rglob("*.sql"))
    documented = readme_order(root / "snowflake" / "README.md")
    assert sorted(documented) == on_disk, "snowflake/README.md must list every script once"
    assert documented == list(RUN_AS), "scripts are documented out of their run order"


def test_each_script_runs_as_its_documented_role(scripts: Scripts, root: Path) -> None:
    assert scripts.run_as == RUN_AS
    readme = (root / "snowflake" / "README.md").read_text()
    for script, roles in RUN_AS.items():
        row = next(line for line in readme.splitlines() if script in line)
        assert all(role in row for role in roles), f"README row of {script} names {roles}"


def test_objects_are_owned_by_the_system_role_meant_for_them(scripts: Scripts) -> None:
    owners = {
        "databases": "SYSADMIN",
        "schemas": "SYSADMIN",
        "warehouses": "SYSADMIN",
        "monitors": "ACCOUNTADMIN",
        "roles": "USERADMIN",
        "users": "USERADMIN",
    }
    wrong = [
        f"{kind} {name} is created by {props.get('created_by')}, not {owner}"
        for kind, owner in owners.items()
        for name, props in getattr(scripts, kind).items()
        if props.get("created_by") != owner
    ]
    assert not wrong, wrong


def test_every_reference_is_created_earlier_in_run_order(root: Path) -> None:
    """Run the scripts in README order on paper: nothing is used before it exists."""
    order = readme_order(root / "snowflake" / "README.md")
    done = Scripts()
    problems: set[str] = set()
    for script in order:
        step = read_scripts(root / "snowflake", [script])
        objects = {
            "DATABASE": set(done.databases) | set(step.databases),
            "SCHEMA": set(done.schemas) | set(step.schemas),
            "WAREHOUSE": set(done.warehouses) | set(step.warehouses),
        }
        roles = set(done.roles) | set(step.roles) | SYSTEM_ROLES
        users = set(done.users) | set(step.users)
        for grant in step.grants:
            kind = "SCHEMA" if grant.on.endswith("IN SCHEMA") else grant.on
            if grant.name not in objects[kind]:
                problems.add(f"{script}: grants on {kind.lower()} {grant.name}, not created yet")
            if grant.grantee not in roles:
                problems.add(f"{script}: grants to role {grant.grantee}, not created yet")
        for granted, kind, grantee in step.memberships:
            if granted not in roles or grantee not in (roles if kind == "ROLE" else users):
                problems.add(f"{script}: grant role {granted} to {kind} {grantee}: not created yet")
        for name, props in step.warehouses.items():
            monitor = props.get("resource_monitor")
            if monitor and monitor not in set(done.monitors) | set(step.monitors):
                problems.add(f"{script}: {name} uses monitor {monitor} before it exists")
        for name, props in step.users.items():
            if props.get("default_role", "").upper() not in roles:
                problems.add(f"{script}: user {name} defaults to an unknown role")
            if props.get("default_warehouse", "").upper() not in objects["WAREHOUSE"]:
                problems.add(f"{script}: user {name} defaults to an unknown warehouse")
        for kind in ("databases", "schemas", "warehouses", "monitors", "roles", "users"):
            getattr(done, kind).update(getattr(step, kind))
    assert not problems, "\n".join(sorted(problems))


@pytest.mark.coherence
def test_databases_and_schemas_are_those_dbt_builds_into(
    scripts: Scripts, names: dict[str, str], dbt_schemas: tuple[set[str], set[str]]
) -> None:
    built, sources = dbt_schemas
    assert built, "dbt parse found no models, seeds or snapshots"
    assert sources, "dbt parse found no sources"
    used = built | sources
    assert set(scripts.databases) == {f"{names['db']}_{env}" for env in ENVIRONMENTS}, (
        "snowflake/schemas/*.sql and dbt/profiles.yml disagree on the databases"
    )
    for env in ENVIRONMENTS:
        database = f"{names['db']}_{env}"
        script = f"snowflake/schemas/{env.lower()}.sql"
        in_database = {q: p for q, p in scripts.schemas.items() if q.split(".")[0] == database}
        created = {q.split(".")[1] for q in in_database}
        assert all(p["script"] == script for p in in_database.values()), script
        assert not used - created, (
            f"dbt/models (dbt_project.yml, _sources.yml) use the schemas {sorted(used - created)}, "
            f"which {script} does not create: add them to {script}"
        )
        assert not created - used, (
            f"{script} creates {sorted(created - used)}, which no model or source in dbt/models "
            f"uses: drop them from {script} or build into them"
        )


def test_schemas_are_documented_and_access_managed(scripts: Scripts) -> None:
    for name, props in scripts.schemas.items():
        assert props.get("comment"), f"{name} has no comment"
        assert props.get("managed_access") == "true", f"{name} is not a managed-access schema"
        assert props.get("data_retention_time_in_days") in {"0", "1"}, (
            f"{name}: Standard edition allows 0 or 1 day of Time Travel"
        )
    for name, props in scripts.databases.items():
        assert props.get("comment") and "data_retention_time_in_days" in props, name


def test_warehouses_are_sized_suspended_and_monitored(
    scripts: Scripts, names: dict[str, str]
) -> None:
    rp = names["role"]
    expected = {f"{rp}_LOADING_WH", f"{rp}_TRANSFORMING_WH", f"{rp}_REPORTING_WH"}
    assert set(scripts.warehouses) == expected
    sizes = {name: props["warehouse_size"].upper() for name, props in scripts.warehouses.items()}
    transforming = sizes[f"{rp}_TRANSFORMING_WH"]
    assert transforming == names["size"], "the transforming size is the snowflake_warehouse_size"
    for name in expected - {f"{rp}_TRANSFORMING_WH"}:
        assert SIZES.index(sizes[name]) <= SIZES.index(transforming), f"{name} is oversized"
    for name, props in scripts.warehouses.items():
        assert 0 < int(props["auto_suspend"]) <= 600, f"{name}: auto_suspend within 10 minutes"
        assert props["auto_resume"].lower() == "true", name
        assert props["initially_suspended"].lower() == "true", name
        monitor = scripts.monitors[props["resource_monitor"]]
        assert float(str(monitor["credit_quota"])) > 0, f"{name}: no credit quota"
        assert str(monitor["frequency"]).upper() == "MONTHLY"
        triggers = monitor["triggers"]
        assert isinstance(triggers, dict)
        assert "NOTIFY" in triggers.values(), f"{name}: its monitor never notifies"
        assert triggers.get(100) == "SUSPEND", f"{name}: its monitor does not suspend at 100 %"
    assigned = [props["resource_monitor"] for props in scripts.warehouses.values()]
    assert len(set(assigned)) == len(assigned) == len(scripts.monitors)


@pytest.mark.parametrize("role", sorted(FUNCTIONAL_ACCESS))
def test_functional_role_gets_exactly_what_dbt_needs(
    scripts: Scripts, names: dict[str, str], role: str
) -> None:
    """Through its access roles, each functional role holds exactly its privileges."""
    held = effective_grants(scripts.grants, scripts.memberships, f"{names['role']}_{role}")
    needed = expected_grants(names["db"], names["role"], role)
    assert not needed - held, f"{role} lacks {sorted(needed - held)}"
    assert not held - needed, f"{role} holds more than it needs: {sorted(held - needed)}"


def test_access_roles_follow_the_naming_scheme(scripts: Scripts, names: dict[str, str]) -> None:
    rp, functional = names["role"], {f"{names['role']}_{r}" for r in FUNCTIONAL_ACCESS}
    access = set(scripts.roles) - functional
    pattern = re.compile(rf"{rp}_({'|'.join(ENVIRONMENTS)})_([A-Z]+)_(RO|RW)")
    for role in access:
        match = pattern.fullmatch(role)
        assert match, f"{role} is neither functional nor <PREFIX>_<ENV>_<SCHEMA>_RO|RW"
        env, schema = match[1], match[2]
        assert f"{names['db']}_{env}.{schema}" in scripts.schemas, role
        privileges = {g.name for g in scripts.grants if g.grantee == role}
        assert privileges <= {f"{names['db']}_{env}", f"{names['db']}_{env}.{schema}"}, (
            f"{role} holds privileges outside its schema"
        )
    users = {grantee for _, kind, grantee in scripts.memberships if kind == "USER"}
    granted_to_users = {g for g, kind, _ in scripts.memberships if kind == "USER"}
    assert granted_to_users <= functional, "only functional roles are granted to users"
    assert users == set(scripts.users)


def test_service_users_use_key_pairs_and_no_secret_is_stored(
    scripts: Scripts, names: dict[str, str], root: Path
) -> None:
    rp = names["role"]
    assert set(scripts.users) == {f"{rp}_{role}_SVC" for role in FUNCTIONAL_ACCESS}
    for name, props in scripts.users.items():
        assert props.get("type", "").upper() == "SERVICE", f"{name} must be a service user"
        role = name.removesuffix("_SVC")
        assert props["default_role"].upper() == role
        assert (role, "USER", name) in {(g, k, u) for g, k, u in scripts.memberships}
    for path in (root / "snowflake").rglob("*.sql"):
        for statement in statements(path.read_text()):
            text = statement.lower()
            assert "rsa_public_key" not in text, f"{path}: {statement[:60]} sets a key"
            assert "password" not in text, f"{path}: {statement[:60]} sets a password"
    readme = (root / "snowflake" / "README.md").read_text()
    assert f"alter user {rp}_TRANSFORMER_SVC set rsa_public_key" in readme


@pytest.mark.coherence
def test_dbt_prod_settings_name_objects_the_scripts_create(scripts: Scripts, root: Path) -> None:
    settings = dict(
        line.split("=", 1)
        for line in (root / ".env.example").read_text().splitlines()
        if line.startswith("SNOWFLAKE_") and "=" in line
    )
    for key, objects, script in [
        ("SNOWFLAKE_DATABASE", scripts.databases, "snowflake/schemas/prod.sql"),
        ("SNOWFLAKE_WAREHOUSE", scripts.warehouses, "snowflake/warehouses/warehouses.sql"),
        ("SNOWFLAKE_ROLE", scripts.roles, "snowflake/roles/01_roles.sql"),
    ]:
        assert settings[key] in objects, (
            f".env.example sets {key}={settings[key]}, which {script} does not create "
            f"(it creates {sorted(objects)})"
        )
