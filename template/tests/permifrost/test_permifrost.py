"""The Permifrost spec (snowflake/permifrost/roles.yml) loads, and grants what the SQL grants.

Permifrost 0.15.5 checks a spec offline with its own loader (`load_spec`: keys and types)
and `EntityGenerator(spec).inspect_entities()` (names and cross-references). Its
`run --dry` needs an account: here a stub connector answers Permifrost's queries from the
objects the scripts in snowflake/ create, so the dry run prints the whole GRANT plan
without one, and the plan is compared with snowflake/roles/02_grants.sql and 03_users.sql.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from conftest import require
from snowflake_scripts import (
    FUNCTIONAL_ACCESS,
    SYSTEM_ROLES,
    Scripts,
    answers,
    effective_grants,
    expected_grants,
    read_plan,
    read_scripts,
    readme_order,
)

SPEC = Path("snowflake/permifrost/roles.yml")


@pytest.fixture(scope="module")
def permifrost() -> SimpleNamespace:
    require(importlib.util.find_spec("permifrost") is not None, "permifrost")
    try:
        import permifrost.cli
        import permifrost.cli.permissions
        import permifrost.snowflake_connector
        import permifrost.snowflake_grants
        import permifrost.snowflake_spec_loader
        from permifrost.entities import EntityGenerator
        from permifrost.error import SpecLoadingError
        from permifrost.spec_file_loader import load_spec
    except (ImportError, AttributeError) as error:  # snowflake-sqlalchemy on SQLAlchemy 2.1
        pytest.fail(
            f"permifrost is installed but does not import ({error}): "
            "it needs SQLAlchemy<2.1 (see snowflake/permifrost/README.md)",
            pytrace=False,
        )

    return SimpleNamespace(
        cli=permifrost.cli.cli,
        load_spec=load_spec,
        EntityGenerator=EntityGenerator,
        SpecLoadingError=SpecLoadingError,
        SnowflakeSpecLoader=permifrost.snowflake_spec_loader.SnowflakeSpecLoader,
        SnowflakeConnector=permifrost.snowflake_connector.SnowflakeConnector,
        # Every module that creates a SnowflakeConnector by its own name for it.
        connector_users=[
            permifrost.snowflake_connector,
            permifrost.snowflake_spec_loader,
            permifrost.snowflake_grants,
            permifrost.cli.permissions,
        ],
    )


@pytest.fixture(scope="module")
def names(root: Path) -> dict[str, str]:
    given = answers(root)
    return {
        "db": str(given["snowflake_database_prefix"]),
        "role": str(given["snowflake_role_prefix"]),
    }


@pytest.fixture(scope="module")
def scripts(root: Path) -> Scripts:
    return read_scripts(root / "snowflake", readme_order(root / "snowflake" / "README.md"))


def stub_connector(base: type, objects: Scripts, granted: Scripts | None) -> type:
    """A SnowflakeConnector that answers from ``objects`` instead of an account.

    ``granted`` holds the grants the account already has (None: a fresh account).
    Tables and views do not exist yet. An unknown query fails the test.
    """
    grants = granted.grants if granted else set()
    memberships = granted.memberships if granted else set()

    def rows(query: str) -> list[dict[str, str]]:
        q = " ".join(query.split()).upper()
        if q == "SELECT CURRENT_USER() AS USER":
            return [{"user": "PERMIFROST_ADMIN"}]
        if q == "SELECT CURRENT_ROLE() AS ROLE":
            return [{"role": "SECURITYADMIN"}]
        listed = {
            "SHOW DATABASES": objects.databases,
            "SHOW WAREHOUSES": objects.warehouses,
            "SHOW USERS": objects.users,
            "SHOW INTEGRATIONS": {},
        }
        if q in listed:
            return [{"name": name} for name in listed[q]]
        if q == "SHOW ROLES":
            return [{"name": r, "owner": "USERADMIN"} for r in [*objects.roles, *SYSTEM_ROLES]]
        if match := re.fullmatch(r"SHOW TERSE SCHEMAS IN (?:DATABASE (\S+)|ACCOUNT)", q):
            pairs = [qualified.split(".") for qualified in objects.schemas]
            return [{"database_name": d, "name": s} for d, s in pairs if match[1] in (None, d)]
        if re.fullmatch(r"SHOW TERSE (TABLES|VIEWS) IN (ACCOUNT|(SCHEMA|DATABASE) \S+)", q):
            return []
        if match := re.fullmatch(r"SHOW FUTURE GRANTS IN (DATABASE|SCHEMA) (\S+)", q):
            found = []
            for g in grants:
                if match[1] == "SCHEMA" and g.on.startswith("FUTURE") and g.name == match[2]:
                    kind = g.on.split()[1].removesuffix("S")  # FUTURE TABLES IN SCHEMA -> TABLE
                    found.append(
                        {
                            "grant_to": "ROLE",
                            "grantee_name": g.grantee,
                            "privilege": g.privilege,
                            "grant_on": kind,
                            "name": f"{g.name}.<{kind}>",
                        }
                    )
            return found
        if match := re.fullmatch(r"SHOW GRANTS TO ROLE (\S+)", q):
            direct = [
                {"privilege": g.privilege, "granted_on": g.on, "name": g.name}
                for g in grants
                if g.grantee == match[1] and g.on in {"DATABASE", "SCHEMA", "WAREHOUSE"}
            ]
            roles = [
                {"privilege": "USAGE", "granted_on": "ROLE", "name": granted_role}
                for granted_role, kind, grantee in memberships
                if kind == "ROLE" and grantee == match[1]
            ]
            return direct + roles
        if match := re.fullmatch(r"SHOW GRANTS TO USER (\S+)", q):
            return [
                {"role": role}
                for role, kind, user in memberships
                if kind == "USER" and user == match[1]
            ]
        raise AssertionError(f"the stub connector cannot answer {query!r}")

    class Result:
        def __init__(self, found: list[dict[str, str]]) -> None:
            self.found = found

        def fetchall(self) -> list[dict[str, str]]:
            return self.found

        def fetchone(self) -> dict[str, str] | None:
            return self.found[0] if self.found else None

    class StubConnector(base):  # type: ignore[misc, valid-type]
        def __init__(self, config: dict[str, Any] | None = None) -> None:
            self.engine = None  # no account, no credentials

        def run_query(self, query: str) -> Result:
            return Result(rows(query))

    return StubConnector


@pytest.fixture
def offline(
    permifrost: SimpleNamespace, scripts: Scripts, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., None]:
    """Point Permifrost at the stub connector (call with ``granted=`` for a set-up account)."""

    def use(granted: Scripts | None = None, objects: Scripts | None = None) -> None:
        stub = stub_connector(permifrost.SnowflakeConnector, objects or scripts, granted)
        for module in permifrost.connector_users:
            monkeypatch.setattr(module, "SnowflakeConnector", stub)

    return use


def grant_plan(permifrost: SimpleNamespace, spec: Path) -> list[dict[str, Any]]:
    """Permifrost's plan as ``{'sql': ..., 'already_granted': ...}`` (what `run` executes)."""
    return permifrost.SnowflakeSpecLoader(str(spec)).generate_permission_queries()


def undefined_member_roles(spec: dict[str, Any]) -> list[str]:
    """Roles that a role is member_of but the spec never defines.

    Permifrost 0.15.5 counts a role named in a role's member_of as defined, so its own
    check misses this; `permifrost run` would then fail on the account.
    """
    entries = spec.get("roles") or []
    defined = {name for entry in entries for name in entry}
    problems = []
    for entry in entries:
        for name, config in entry.items():
            member_of = (config or {}).get("member_of", [])
            if isinstance(member_of, dict):
                member_of = [*member_of.get("include", []), *member_of.get("exclude", [])]
            problems += [
                f"Reference error: role {name} is member_of {role}, which the spec does not define"
                for role in member_of
                if role != "*" and role not in defined
            ]
    return problems


def spec_errors(permifrost: SimpleNamespace, path: Path) -> str:
    """What Permifrost's loader and cross-reference check (and ours) say about a spec."""
    try:
        spec = permifrost.load_spec(str(path))
        permifrost.EntityGenerator(spec).inspect_entities()
    except permifrost.SpecLoadingError as error:
        return str(error)
    return "\n".join(undefined_member_roles(spec))


def entry(spec: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    return next(e[name] for e in spec[kind] if name in e)


@pytest.mark.coherence
def test_spec_passes_permifrosts_own_checks(
    permifrost: SimpleNamespace, root: Path, scripts: Scripts
) -> None:
    assert spec_errors(permifrost, root / SPEC) == ""
    spec = permifrost.load_spec(str(root / SPEC))
    entities = permifrost.EntityGenerator(spec).inspect_entities()

    def lower(names: object) -> set[str]:
        return {str(name).lower() for name in names}  # type: ignore[attr-defined]

    for kind, script in [
        ("databases", "snowflake/schemas/*.sql"),
        ("warehouses", "snowflake/warehouses/warehouses.sql"),
        ("roles", "snowflake/roles/01_roles.sql"),
        ("users", "snowflake/roles/03_users.sql"),
    ]:
        in_spec, in_sql = entities[kind], lower(getattr(scripts, kind))
        assert in_spec == in_sql, (
            f"{SPEC} and {script} name other {kind}: only in the spec {sorted(in_spec - in_sql)}, "
            f"only in the SQL {sorted(in_sql - in_spec)}"
        )
    unknown = entities["schema_refs"] - lower(scripts.schemas)
    assert not unknown, f"{SPEC} names schemas no snowflake/schemas/*.sql creates: {unknown}"
    for name, props in scripts.warehouses.items():
        size = entry(spec, "warehouses", name.lower())["size"]
        assert size.upper() == props["warehouse_size"].upper(), (
            f"{SPEC} sizes {name} {size}, snowflake/warehouses/warehouses.sql "
            f"{props['warehouse_size']}"
        )


@pytest.mark.parametrize("role", sorted(FUNCTIONAL_ACCESS))
def test_functional_role_gets_exactly_what_dbt_needs(
    permifrost: SimpleNamespace,
    offline: Callable[..., None],
    root: Path,
    names: dict[str, str],
    role: str,
) -> None:
    offline()
    grants, memberships, _ = read_plan([q["sql"] for q in grant_plan(permifrost, root / SPEC)])
    held = effective_grants(grants, memberships, f"{names['role']}_{role}")
    needed = expected_grants(names["db"], names["role"], role)
    assert not needed - held, f"{role} lacks {sorted(needed - held)}"
    assert not held - needed, f"{role} holds more than it needs: {sorted(held - needed)}"


def test_dry_run_prints_the_grant_plan(
    permifrost: SimpleNamespace, offline: Callable[..., None], root: Path, names: dict[str, str]
) -> None:
    from click.testing import CliRunner

    offline()
    result = CliRunner().invoke(permifrost.cli, ["run", str(root / SPEC), "--dry"])
    assert result.exit_code == 0, result.output
    printed = [
        line.removeprefix("[PENDING] ")
        for line in result.output.splitlines()
        if line.startswith("[PENDING] ")
    ]
    dp, rp = names["db"].lower(), names["role"].lower()
    for line in [
        f"GRANT usage ON database {dp}_prod TO ROLE {rp}_prod_marts_ro;",
        f"GRANT usage ON schema {dp}_prod.marts TO ROLE {rp}_prod_marts_ro;",
        f"GRANT select ON FUTURE tables IN schema {dp}_prod.marts TO ROLE {rp}_prod_marts_ro;",
        f"GRANT select ON FUTURE views IN schema {dp}_prod.marts TO ROLE {rp}_prod_marts_ro;",
        f"GRANT ROLE {rp}_prod_marts_ro TO role {rp}_reporter;",
        f"GRANT usage ON warehouse {rp}_reporting_wh TO ROLE {rp}_reporter;",
        f"GRANT ROLE {rp}_prod_raw_rw TO role {rp}_loader;",
        f"GRANT ROLE {rp}_transformer TO user {rp}_transformer_svc;",
        f"ALTER USER {rp}_transformer_svc SET DISABLED = FALSE;",
    ]:
        assert line in printed, f"the plan lacks {line}"
    assert not [line for line in printed if line.startswith("REVOKE")]
    grants, memberships, other = read_plan(printed)
    assert all(line.startswith("ALTER USER") for line in other), other
    reporter = effective_grants(grants, memberships, f"{names['role']}_REPORTER")
    assert ("USAGE", "DATABASE", f"{names['db']}_PROD") in reporter
    assert ("SELECT", "FUTURE TABLES IN SCHEMA", f"{names['db']}_PROD.MARTS") in reporter


@pytest.mark.coherence
def test_spec_grants_exactly_what_the_sql_scripts_grant(
    permifrost: SimpleNamespace, offline: Callable[..., None], root: Path, scripts: Scripts
) -> None:
    offline()
    grants, memberships, _ = read_plan([q["sql"] for q in grant_plan(permifrost, root / SPEC)])
    # SYSADMIN is not in the spec (Permifrost would revoke its other roles).
    sql_memberships = {m for m in scripts.memberships if m[2] != "SYSADMIN"}
    assert not scripts.grants - grants, (
        f"snowflake/roles/02_grants.sql grants {sorted(scripts.grants - grants)}, {SPEC} does not"
    )
    assert not grants - scripts.grants, (
        f"{SPEC} grants {sorted(grants - scripts.grants)}, snowflake/roles/02_grants.sql does not"
    )
    assert memberships == sql_memberships, (
        f"{SPEC} and snowflake/roles/*.sql grant other roles: only in the spec "
        f"{sorted(memberships - sql_memberships)}, only in the SQL "
        f"{sorted(sql_memberships - memberships)}"
    )


@pytest.mark.coherence
def test_an_account_set_up_by_the_scripts_needs_no_change(
    permifrost: SimpleNamespace, offline: Callable[..., None], root: Path, scripts: Scripts
) -> None:
    offline(granted=scripts)
    pending = [q["sql"] for q in grant_plan(permifrost, root / SPEC) if not q["already_granted"]]
    assert all(sql.startswith("ALTER USER") for sql in pending), (
        f"an account set up by snowflake/roles/*.sql still needs these from {SPEC}: {pending}"
    )


def test_dry_run_stops_at_a_schema_the_scripts_do_not_create(
    permifrost: SimpleNamespace,
    offline: Callable[..., None],
    root: Path,
    names: dict[str, str],
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    spec = yaml.safe_load((root / SPEC).read_text())
    role = entry(spec, "roles", f"{names['role'].lower()}_prod_marts_ro")
    role["privileges"]["schemas"]["read"].append(f"{names['db'].lower()}_prod.ghost")
    (tmp_path / "roles.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    offline()
    result = CliRunner().invoke(permifrost.cli, ["run", str(tmp_path / "roles.yml"), "--dry"])
    assert result.exit_code == 1
    schema = f"{names['db'].lower()}_prod.ghost"
    assert f"Missing Entity Error: Schema {schema} was not found" in result.output


def _rename_privileges(spec: dict[str, Any], rp: str, dp: str) -> None:
    role = entry(spec, "roles", f"{rp}_prod_marts_ro")
    role["privilges"] = role.pop("privileges")


def _user_in_ghost_role(spec: dict[str, Any], rp: str, dp: str) -> None:
    entry(spec, "users", f"{rp}_reporter_svc")["member_of"] = ["ghost_role"]


def _role_in_ghost_role(spec: dict[str, Any], rp: str, dp: str) -> None:
    entry(spec, "roles", f"{rp}_reporter")["member_of"].append("ghost_role")


def _ghost_warehouse(spec: dict[str, Any], rp: str, dp: str) -> None:
    entry(spec, "roles", f"{rp}_reporter")["warehouses"] = ["ghost_wh"]


def _undeclared_database(spec: dict[str, Any], rp: str, dp: str) -> None:
    spec["databases"] = [e for e in spec["databases"] if f"{dp}_prod" not in e]


def _login_as_text(spec: dict[str, Any], rp: str, dp: str) -> None:
    entry(spec, "users", f"{rp}_loader_svc")["can_login"] = "yes"


@pytest.mark.parametrize(
    ("break_spec", "expected"),
    [
        (_rename_privileges, ['field "privilges"', "unknown field"]),
        (_user_in_ghost_role, ["Reference error: Role ghost_role is referenced", "not defined"]),
        (_role_in_ghost_role, ["is member_of ghost_role", "does not define"]),
        (_ghost_warehouse, ["Reference error: Warehouse ghost_wh is referenced"]),
        (_undeclared_database, ["Reference error: Database {dp}_prod is referenced"]),
        (_login_as_text, ['field "can_login"', "boolean"]),
    ],
    ids=[
        "misspelled-key",
        "user-in-undefined-role",
        "role-in-undefined-role",
        "undefined-warehouse",
        "undeclared-database",
        "wrong-type",
    ],
)
def test_a_broken_spec_is_rejected_with_a_clear_error(
    permifrost: SimpleNamespace,
    root: Path,
    names: dict[str, str],
    tmp_path: Path,
    break_spec: Callable[[dict[str, Any], str, str], None],
    expected: list[str],
) -> None:
    spec = yaml.safe_load((root / SPEC).read_text())
    rp, dp = names["role"].lower(), names["db"].lower()
    break_spec(spec, rp, dp)
    broken = tmp_path / "roles.yml"
    broken.write_text(yaml.safe_dump(spec, sort_keys=False))
    errors = spec_errors(permifrost, broken)
    for text in expected:
        assert text.format(dp=dp) in errors, f"{text!r} not in: {errors}"
