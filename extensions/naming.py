"""Naming filters and answer validators (loaded by copier from this file path).

Filters return a derived name; ``*_error`` filters are copier validators: they
return an empty string for a good answer and otherwise a message that says what
is wrong and what to type instead.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import unicodedata
from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

_PROJECT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9 _-]*")
_SNOWFLAKE_IDENTIFIER = re.compile(r"[A-Z][A-Z0-9_]*")
_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_TEAM = re.compile(r"[A-Za-z][A-Za-z0-9 ._-]*")
#: Snowflake identifiers are at most 255 characters; leave room for suffixes
#: such as ``_DEV`` / ``_TRANSFORMER`` that the rendered code appends.
SNOWFLAKE_PREFIX_MAX = 40
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


#: Words a YAML 1.1 parser (PyYAML, Ansible, Compose, dbt) reads as a boolean or null.
YAML_SPECIAL = frozenset("y n yes no on off true false null ~".split())
#: Names dbt refuses as a project name (dbt-core's BANNED_PROJECT_NAMES, and dbt itself,
#: the name of its own internal project).
DBT_RESERVED = frozenset(
    """dbt _sql_results adapter api column config context database env env_var exceptions
    execute flags fromjson fromyaml graph invocation_id load_agate_table load_result log
    model modules post_hooks pre_hooks ref render return run_started_at schema source sql
    sql_now store_result store_raw_result target this tojson toyaml try_or_compiler_error
    var write""".split()
)
PROJECT_NAME_MAX = 40
DESCRIPTION_MAX = 200
OWNER_MAX = 63


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


def _text_error(value: object, question: str, example: str) -> tuple[str, str]:
    """(the answer as text, a message when it is not one clean line of text)."""
    if value is not None and not isinstance(value, str):
        return "", (
            f"{question} must be text, not {type(value).__name__} {value!r}: "
            f"quote it, e.g. -d {question}='{example}'"
        )
    text = value or ""
    if not text.strip():
        return text, f"{question} is empty: type one such as {example!r}"
    if any(unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} for char in text):
        return text, (
            f"{question} {text!r} holds a line break or control character: "
            "type it on one line, printable characters only"
        )
    if text != text.strip():
        return text, f"{question} {text!r} starts or ends with spaces: remove them"
    return text, ""


def project_name_error(value: object) -> str:
    text, problem = _text_error(value, "project_name", "Orders Prototype")
    if problem:
        return problem
    if len(text) > PROJECT_NAME_MAX:
        return (
            f"project_name is {len(text)} characters long: keep it to {PROJECT_NAME_MAX} or "
            "fewer (it becomes Kubernetes names of at most 63 characters with their suffixes "
            "and the Snowflake prefix)"
        )
    if not _PROJECT_NAME.fullmatch(text):
        return (
            f"project_name {text!r} is not allowed: start with a letter and use "
            "only letters, digits, spaces, '-' and '_' (e.g. 'Orders Prototype')"
        )
    name = package_name(text)
    reason = ""
    if name in YAML_SPECIAL or slug(text) in YAML_SPECIAL:
        reason = "YAML files read it as a boolean"
    elif name in DBT_RESERVED:
        reason = "dbt reserves it"
    elif keyword.iskeyword(name) or keyword.issoftkeyword(name):
        reason = "it is a Python keyword"
    elif name in sys.stdlib_module_names:
        reason = "the Python package would shadow the standard library's module"
    elif snowflake_identifier(text) in SNOWFLAKE_RESERVED:
        reason = f"its Snowflake name {snowflake_identifier(text)} is a reserved word"
    if reason:
        return (
            f"project_name {text!r} becomes the name {name!r}, and {reason}: "
            f"choose a more specific name, e.g. '{text} Prototype'"
        )
    return ""


def snowflake_identifier_error(value: object, question: str = "value") -> str:
    if value is not None and not isinstance(value, str):
        return f"{question} must be text, not {type(value).__name__} {value!r}"
    text = value or ""
    if not text:
        return f"{question} is empty: type an identifier such as 'ORDERS_PROTOTYPE'"
    if not _SNOWFLAKE_IDENTIFIER.fullmatch(text):
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
    text, problem = _text_error(value, "owner", "data-platform")
    if problem:
        return problem
    if len(text) > OWNER_MAX:
        return f"owner is {len(text)} characters long: keep it to {OWNER_MAX} or fewer"
    if not _TEAM.fullmatch(text) or text.lower() in YAML_SPECIAL:
        return (
            f"owner {text!r} is not allowed: start with a letter, use letters, digits, "
            "spaces, '.', '-' and '_', and not a yes/no word (e.g. 'data-platform')"
        )
    return ""


def email_error(value: object) -> str:
    text, problem = _text_error(value, "owner_email", "data-platform@example.com")
    if problem:
        return problem
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        return (
            f"owner_email {text!r} is not an e-mail address: "
            "type one such as 'data-platform@example.com'"
        )
    return ""


def description_error(value: object) -> str:
    text, problem = _text_error(value, "description", "Prototype of the orders pipeline")
    if problem:
        return problem
    if len(text) > DESCRIPTION_MAX:
        return (
            f"description is {len(text)} characters long: keep it to one sentence of "
            f"{DESCRIPTION_MAX} characters or fewer"
        )
    return ""


def derived_error(value: object, question: str, expected: object) -> str:
    """Validator of a derived value: it must be what the template derives."""
    if value == expected:
        return ""
    return (
        f"{question} is derived ({expected!r} here) and cannot be set: "
        f"remove -d {question}=... (change project_name or components instead)"
    )


def destination_error(dst: object, overwrite: object = False, src: object = None) -> str:
    """Validator of the destination folder, checked before anything is written."""
    path = Path(str(dst)).expanduser().absolute()
    if path.exists() and not path.is_dir():
        return f"the destination {str(path)!r} is a file: give a folder (new or empty) instead"
    source = Path(str(src)).expanduser() if src and "://" not in str(src) else None
    if source is not None and source.is_dir():
        source = source.resolve()
        if path.resolve() == source or source in path.resolve().parents:
            return (
                f"the destination {str(path)!r} is inside the template checkout {str(source)!r}: "
                "render the prototype into a folder outside it, e.g. ../my-prototype"
            )
    if path.is_dir() and not overwrite and not (path / ".copier-answers.yml").exists():
        found = sorted(p.name for p in path.iterdir() if p.name != ".git")
        if found:
            return (
                f"the destination {str(path)!r} already holds {len(found)} file(s) or folder(s) "
                f"({', '.join(found[:3])}{', ...' if len(found) > 3 else ''}) and is not a "
                "prototype of this template: choose a new or empty folder, or pass --overwrite "
                "to render over them"
            )
    return ""


def check_destination(dst: object, overwrite: object = False, src: object = None) -> str:
    """Refuse a bad destination before copier asks or writes anything (the `when` of
    copier.yml's first entry): copier prints the message and exits with status 1."""
    problem = destination_error(dst, overwrite, src)
    if problem:
        try:
            from copier.errors import UserMessageError
        except ImportError:  # pragma: no cover - another copier
            raise ValueError(problem) from None
        raise UserMessageError(problem)
    return ""


# ---------------------------------------------------------------------------
# Escaping: one filter per format an answer lands in
# ---------------------------------------------------------------------------
def yaml_scalar(value: object) -> str:
    """The answer as a YAML scalar that every YAML 1.1 and 1.2 parser reads back as
    the same string: plain when that is safe, double-quoted otherwise."""
    text = str(value)
    plain = re.fullmatch(r"[A-Za-z][A-Za-z0-9 ._@/()-]*", text) and not text.endswith(" ")
    if plain and text.lower() not in YAML_SPECIAL and ": " not in text and " #" not in text:
        return text
    return json_string(text)


def json_string(value: object) -> str:
    """A double-quoted JSON string, which is also a valid TOML basic string and a Python
    string as ruff format writes it: dp_json, dp_toml and dp_py are this one function."""
    return json.dumps(str(value), ensure_ascii=False)


def sql_string(value: object) -> str:
    """A SQL string literal: single quotes doubled (Snowflake also reads a backslash
    as an escape, so it is doubled too)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


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
        environment.filters["dp_description_error"] = description_error
        environment.filters["dp_derived_error"] = derived_error
        environment.filters["dp_check_destination"] = check_destination
        environment.filters["dp_toml"] = json_string
        environment.filters["dp_yaml"] = yaml_scalar
        environment.filters["dp_json"] = json_string
        environment.filters["dp_sql_string"] = sql_string
        environment.filters["dp_py"] = json_string
