"""Read the SQL scripts under snowflake/ into the objects they create and the grants they make.

The scripts use a small, fixed set of statements (see ``PATTERNS``). Anything else is
reported as a problem, so a statement the tests cannot understand never slips through
unchecked. The same parser reads Permifrost's GRANT plan (tests/permifrost/test_permifrost.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ENVIRONMENTS = ("DEV", "PROD")
SYSTEM_ROLES = {"ACCOUNTADMIN", "SECURITYADMIN", "SYSADMIN", "USERADMIN", "PUBLIC"}

#: What each functional role may do, in both databases (the dbt project's needs).
FUNCTIONAL_ACCESS: dict[str, dict[str, str]] = {
    "LOADER": {"RAW": "write"},
    "TRANSFORMER": {
        "RAW": "read",
        "STAGING": "write",
        "INTERMEDIATE": "write",
        "MARTS": "write",
        "SNAPSHOTS": "write",
    },
    "REPORTER": {"MARTS": "read"},
}
FUNCTIONAL_WAREHOUSE = {
    "LOADER": "LOADING_WH",
    "TRANSFORMER": "TRANSFORMING_WH",
    "REPORTER": "REPORTING_WH",
}
WAREHOUSE_PRIVILEGES = ("USAGE", "OPERATE", "MONITOR")
SCHEMA_WRITE_PRIVILEGES = (
    "USAGE",
    "MONITOR",
    "CREATE TABLE",
    "CREATE VIEW",
    "CREATE STAGE",
    "CREATE FILE FORMAT",
    "CREATE SEQUENCE",
    "CREATE FUNCTION",
    "CREATE PIPE",
)
TABLE_WRITE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES")

NAME = r"([A-Za-z_][A-Za-z0-9_$]*)"
QUALIFIED = r"([A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?)"
PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE | re.DOTALL)
    for name, pattern in {
        "use_role": rf"use role {NAME}",
        "database": rf"create database if not exists {NAME}(?P<props>.*)",
        "schema": rf"create schema if not exists {NAME}\.{NAME}(?P<props>.*)",
        "warehouse": rf"create warehouse if not exists {NAME}(?P<props>.*)",
        "monitor": rf"create resource monitor if not exists {NAME} with(?P<props>.*)",
        "attach_monitor": rf"alter warehouse {NAME} set resource_monitor = {NAME}",
        "role": rf"create role if not exists {NAME}(?P<props>.*)",
        "user": rf"create user if not exists {NAME}(?P<props>.*)",
        "grant_role": rf"grant role {NAME} to (role|user) {NAME}",
        "grant": (
            r"grant (?P<privileges>[a-z ,]+?) on "
            r"(?P<on>database|schema|warehouse|(?:all|future) (?:tables|views) in schema) "
            rf"{QUALIFIED} to role {NAME}"
        ),
        "alter_user": rf"alter user {NAME} set (?P<props>.*)",
    }.items()
}
PROPERTY = re.compile(r"(\w+)\s*=\s*('(?:[^']|'')*'|[^\s']+)")
TRIGGER = re.compile(r"on (\d+) percent do (\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class Grant:
    """One privilege on one object to one role, upper-cased, e.g. ``USAGE`` on ``DATABASE`` X."""

    privilege: str
    on: str
    name: str
    grantee: str


@dataclass
class Scripts:
    """Everything the scripts create and grant, and the role each statement runs as."""

    databases: dict[str, dict[str, str]] = field(default_factory=dict)
    schemas: dict[str, dict[str, str]] = field(default_factory=dict)
    warehouses: dict[str, dict[str, str]] = field(default_factory=dict)
    monitors: dict[str, dict[str, object]] = field(default_factory=dict)
    roles: dict[str, dict[str, str]] = field(default_factory=dict)
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    grants: set[Grant] = field(default_factory=set)
    #: ``(granted role, 'ROLE' or 'USER', grantee)``
    memberships: set[tuple[str, str, str]] = field(default_factory=set)
    #: script -> the roles its ``use role`` statements switch to, in order
    run_as: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def answers(root: Path) -> dict[str, object]:
    return yaml.safe_load((root / ".copier-answers.yml").read_text())


def statements(text: str) -> list[str]:
    """The statements of a script: ``--`` comments dropped, whitespace collapsed.

    Quotes are tracked, so a ``;`` or ``--`` inside a string literal stays in it.
    """
    found: list[str] = []
    current: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        char = text[i]
        if quoted:
            current.append(char)
            quoted = char != "'"
        elif char == "'":
            current.append(char)
            quoted = True
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif char == ";":
            found.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    found.append("".join(current))
    return [" ".join(part.split()) for part in found if part.strip()]


def properties(text: str) -> dict[str, str]:
    found = {key.lower(): value.strip("'") for key, value in PROPERTY.findall(text)}
    if re.search(r"\bwith managed access\b", text, re.IGNORECASE):
        found["managed_access"] = "true"
    return found


def classify(statement: str) -> tuple[str, re.Match[str]] | None:
    for kind, pattern in PATTERNS.items():
        match = pattern.fullmatch(statement)
        if match:
            return kind, match
    return None


def grants_of(match: re.Match[str]) -> set[Grant]:
    on = " ".join(match["on"].upper().split())
    privileges = [" ".join(p.upper().split()) for p in match["privileges"].split(",")]
    return {Grant(p, on, match[3].upper(), match[4].upper()) for p in privileges}


def read_plan(sql: list[str]) -> tuple[set[Grant], set[tuple[str, str, str]], list[str]]:
    """Grants, role memberships and unparsed statements of a list of GRANT statements."""
    grants: set[Grant] = set()
    memberships: set[tuple[str, str, str]] = set()
    other: list[str] = []
    for statement in sql:
        found = classify(" ".join(statement.rstrip(";").split()))
        if found and found[0] == "grant":
            grants |= grants_of(found[1])
        elif found and found[0] == "grant_role":
            match = found[1]
            memberships.add((match[1].upper(), match[2].upper(), match[3].upper()))
        else:
            other.append(statement)
    return grants, memberships, other


def read_scripts(folder: Path, order: list[str] | None = None) -> Scripts:
    """Parse every ``*.sql`` under ``folder`` (in ``order`` when given, else sorted)."""
    paths = sorted(folder.rglob("*.sql"))
    if order is not None:
        paths = [folder.parent / rel for rel in order]
    scripts = Scripts()
    for path in paths:
        rel = path.relative_to(folder.parent).as_posix()
        role = None
        scripts.run_as[rel] = []
        for statement in statements(path.read_text()):
            found = classify(statement)
            if found is None:
                scripts.problems.append(f"{rel}: statement not understood: {statement[:80]}")
                continue
            kind, match = found
            if kind == "use_role":
                role = match[1].upper()
                scripts.run_as[rel].append(role)
                continue
            if role is None:
                scripts.problems.append(f"{rel}: {statement[:60]} runs before any `use role`")
            created_by = {"created_by": role or "", "script": rel}
            if kind == "database":
                scripts.databases[match[1].upper()] = {**properties(match["props"]), **created_by}
            elif kind == "schema":
                qualified = f"{match[1]}.{match[2]}".upper()
                scripts.schemas[qualified] = {**properties(match["props"]), **created_by}
            elif kind == "warehouse":
                scripts.warehouses[match[1].upper()] = {**properties(match["props"]), **created_by}
            elif kind == "monitor":
                props: dict[str, object] = {**properties(match["props"]), **created_by}
                props["triggers"] = {int(p): a.upper() for p, a in TRIGGER.findall(match["props"])}
                scripts.monitors[match[1].upper()] = props
            elif kind == "attach_monitor":
                scripts.warehouses.setdefault(match[1].upper(), {})["resource_monitor"] = match[
                    2
                ].upper()
            elif kind == "role":
                scripts.roles[match[1].upper()] = {**properties(match["props"]), **created_by}
            elif kind == "user":
                scripts.users[match[1].upper()] = {**properties(match["props"]), **created_by}
            elif kind == "grant_role":
                scripts.memberships.add((match[1].upper(), match[2].upper(), match[3].upper()))
            elif kind == "grant":
                scripts.grants |= grants_of(match)
            else:
                scripts.problems.append(f"{rel}: {kind} does not belong in a setup script")
    return scripts


def role_closure(memberships: set[tuple[str, str, str]], role: str) -> set[str]:
    """The role and every role granted to it, directly or through other roles."""
    found = {role}
    changed = True
    while changed:
        changed = False
        for granted, kind, grantee in memberships:
            if kind == "ROLE" and grantee in found and granted not in found:
                found.add(granted)
                changed = True
    return found


def effective_grants(
    grants: set[Grant], memberships: set[tuple[str, str, str]], role: str
) -> set[tuple[str, str, str]]:
    """``(privilege, on, name)`` a role holds itself or through the roles granted to it."""
    closure = role_closure(memberships, role)
    return {(g.privilege, g.on, g.name) for g in grants if g.grantee in closure}


def access_grants(database: str, schema: str, level: str) -> set[tuple[str, str, str]]:
    """The privileges that reading or writing one schema takes (as the scripts grant them)."""
    qualified = f"{database}.{schema}"
    found = {("USAGE", "DATABASE", database)}
    if level == "read":
        found.add(("USAGE", "SCHEMA", qualified))
        table_privileges: tuple[str, ...] = ("SELECT",)
    else:
        found |= {(p, "SCHEMA", qualified) for p in SCHEMA_WRITE_PRIVILEGES}
        table_privileges = TABLE_WRITE_PRIVILEGES
    for scope in ("ALL", "FUTURE"):
        found |= {(p, f"{scope} TABLES IN SCHEMA", qualified) for p in table_privileges}
        found.add(("SELECT", f"{scope} VIEWS IN SCHEMA", qualified))
    return found


def expected_grants(database_prefix: str, role_prefix: str, role: str) -> set[tuple[str, str, str]]:
    """Exactly what functional role ``role`` (e.g. ``'REPORTER'``) needs, in both databases."""
    found = {
        (p, "WAREHOUSE", f"{role_prefix}_{FUNCTIONAL_WAREHOUSE[role]}")
        for p in WAREHOUSE_PRIVILEGES
    }
    for env in ENVIRONMENTS:
        for schema, level in FUNCTIONAL_ACCESS[role].items():
            found |= access_grants(f"{database_prefix}_{env}", schema, level)
    return found


def readme_order(readme: Path) -> list[str]:
    """The scripts in the order snowflake/README.md says to run them."""
    order: list[str] = []
    for path in re.findall(r"snowflake/[\w/]+\.sql", readme.read_text()):
        if path not in order:
            order.append(path)
    return order
