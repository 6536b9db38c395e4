"""Naming filters and answer validators (loaded by copier from this file path).

Filters return a derived name; ``*_error`` filters are copier validators: they
return an empty string for a good answer and otherwise a message that says what
is wrong and what to type instead.
"""

from __future__ import annotations

import re
import unicodedata

from jinja2 import Environment
from jinja2.ext import Extension

_PROJECT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9 _-]*$")
_SNOWFLAKE_IDENTIFIER = re.compile(r"^[A-Z][A-Z0-9_]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TEAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
#: Snowflake identifiers are at most 255 characters; leave room for suffixes
#: such as ``_DEV`` / ``_TRANSFORMER`` that the rendered code appends.
SNOWFLAKE_PREFIX_MAX = 40
PROJECT_NAME_MAX = 64
#: Words Snowflake reserves (ANSI reserved words it rejects as bare names).
SNOWFLAKE_RESERVED = frozenset(
    {
        "ACCOUNT",
        "ALL",
        "ALTER",
        "AND",
        "ANY",
        "AS",
        "BETWEEN",
        "BY",
        "CASE",
        "CAST",
        "CHECK",
        "COLUMN",
        "CONNECT",
        "CONNECTION",
        "CONSTRAINT",
        "CREATE",
        "CROSS",
        "CURRENT",
        "DATABASE",
        "DELETE",
        "DISTINCT",
        "DROP",
        "ELSE",
        "EXISTS",
        "FALSE",
        "FOLLOWING",
        "FOR",
        "FROM",
        "FULL",
        "GRANT",
        "GROUP",
        "GSCLUSTER",
        "HAVING",
        "ILIKE",
        "IN",
        "INCREMENT",
        "INNER",
        "INSERT",
        "INTERSECT",
        "INTO",
        "IS",
        "ISSUE",
        "JOIN",
        "LATERAL",
        "LEFT",
        "LIKE",
        "LOCALTIME",
        "LOCALTIMESTAMP",
        "MINUS",
        "NATURAL",
        "NOT",
        "NULL",
        "OF",
        "ON",
        "OR",
        "ORDER",
        "ORGANIZATION",
        "QUALIFY",
        "REGEXP",
        "REVOKE",
        "RIGHT",
        "RLIKE",
        "ROW",
        "ROWS",
        "SAMPLE",
        "SCHEMA",
        "SELECT",
        "SET",
        "SOME",
        "START",
        "TABLE",
        "TABLESAMPLE",
        "THEN",
        "TO",
        "TRIGGER",
        "TRUE",
        "TRY_CAST",
        "UNION",
        "UNIQUE",
        "UPDATE",
        "USING",
        "VALUES",
        "VIEW",
        "WHEN",
        "WHENEVER",
        "WHERE",
        "WITH",
    }
)


def _ascii(value: str) -> str:
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()


def slug(value: str) -> str:
    """``My Data Prototype`` -> ``my-data-prototype``."""
    text = re.sub(r"[^a-z0-9]+", "-", _ascii(str(value)).lower())
    return text.strip("-")


def package_name(value: str) -> str:
    """``My Data Prototype`` -> ``my_data_prototype`` (a Python / dbt name)."""
    return slug(value).replace("-", "_")


def snowflake_identifier(value: str) -> str:
    """``my-prototype`` -> ``MY_PROTOTYPE`` (an unquoted Snowflake identifier)."""
    return package_name(value).upper()


def project_name_error(value: object) -> str:
    text = "" if value is None else str(value)
    if not text.strip():
        return "project_name is empty: type a name such as 'Orders Prototype'"
    if text != text.strip():
        return "project_name starts or ends with spaces: remove them"
    if len(text) > PROJECT_NAME_MAX:
        return (
            f"project_name is {len(text)} characters long: keep it to {PROJECT_NAME_MAX} or fewer"
        )
    if not _PROJECT_NAME.match(text):
        return (
            f"project_name {text!r} is not allowed: start with a letter and use "
            "only letters, digits, spaces, '-' and '_' (e.g. 'Orders Prototype')"
        )
    return ""


def snowflake_identifier_error(value: object, question: str = "value") -> str:
    text = "" if value is None else str(value)
    if not text:
        return f"{question} is empty: type an identifier such as 'ORDERS_PROTOTYPE'"
    if not _SNOWFLAKE_IDENTIFIER.match(text):
        suggestion = snowflake_identifier(text) or "ORDERS_PROTOTYPE"
        if not suggestion[0].isalpha():
            suggestion = "P_" + suggestion
        return (
            f"{question} {text!r} is not a plain Snowflake identifier: use upper-case "
            f"letters, digits and '_', starting with a letter (e.g. {suggestion!r})"
        )
    if len(text) > SNOWFLAKE_PREFIX_MAX:
        return (
            f"{question} is {len(text)} characters long: keep it to "
            f"{SNOWFLAKE_PREFIX_MAX} or fewer (suffixes are appended to it)"
        )
    if text in SNOWFLAKE_RESERVED:
        return f"{question} {text!r} is a Snowflake reserved word: choose another name"
    return ""


def owner_error(value: object) -> str:
    text = "" if value is None else str(value)
    if not text.strip():
        return "owner is empty: name the team that owns the prototype, e.g. 'data-platform'"
    if not _TEAM.match(text):
        return (
            f"owner {text!r} is not allowed: use letters, digits, spaces, '.', '-' "
            "and '_' (e.g. 'data-platform')"
        )
    return ""


def email_error(value: object) -> str:
    text = "" if value is None else str(value)
    if not _EMAIL.match(text):
        return (
            f"owner_email {text!r} is not an e-mail address: "
            "type one such as 'data-platform@example.com'"
        )
    return ""


class NamingExtension(Extension):
    """Naming filters for copier.yml and the templates (prefix ``dp_``)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["dp_slug"] = slug
        environment.filters["dp_package_name"] = package_name
        environment.filters["dp_snowflake_identifier"] = snowflake_identifier
        environment.filters["dp_project_name_error"] = project_name_error
        environment.filters["dp_snowflake_identifier_error"] = snowflake_identifier_error
        environment.filters["dp_owner_error"] = owner_error
        environment.filters["dp_email_error"] = email_error
