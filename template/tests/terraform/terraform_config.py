"""Read infrastructure/terraform/ into the Snowflake objects it declares, without Terraform.

Terraform 1.0.3 (the PyPI wheel) cannot `init` or `plan` offline, so the tests parse the
files with python-hcl2 and evaluate the few expressions the configuration uses: literals, a
provider alias, ``var.NAME["KEY"].ATTR`` from a ``*.tfvars`` file, and ``TYPE.NAME.name`` or
``.fully_qualified_name`` of another resource. Anything else is reported as unsupported, so
an expression the tests cannot follow never slips through unchecked. The result is the
``Scripts`` object of tests/snowflake/snowflake_scripts.py, so Terraform and the SQL
scripts are compared object by object.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "infrastructure" / "terraform"
#: The provider alias of each resource is the system role that creates it.
ALIASES = {"sysadmin", "accountadmin", "useradmin", "securityadmin"}
#: Stable resources of snowflakedb/snowflake 2.x that this configuration uses.
RESOURCE_TYPES = {
    "snowflake_account_role",
    "snowflake_database",
    "snowflake_grant_account_role",
    "snowflake_grant_ownership",
    "snowflake_grant_privileges_to_account_role",
    "snowflake_resource_monitor",
    "snowflake_schema",
    "snowflake_service_user",
    "snowflake_warehouse",
}
REFERENCE = re.compile(r"(snowflake_\w+)\.(\w+)\.(name|fully_qualified_name)")
PROVIDER = re.compile(r"snowflake\.(\w+)")
VARIABLE = re.compile(r'var\.(\w+)(?:\["([^"]+)"\])?(?:\.(\w+))?')


@functools.cache
def snowflake_scripts() -> ModuleType:
    """tests/snowflake/snowflake_scripts.py, the parser of the SQL scripts (loaded once, so
    its ``Grant`` objects compare equal whichever side built them)."""
    path = ROOT / "tests" / "snowflake" / "snowflake_scripts.py"
    spec = importlib.util.spec_from_file_location("terraform_snowflake_scripts", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def unquote(text: str) -> str:
    """A name as python-hcl2 returns it (``'"x"'``) without its quotes."""
    return json.loads(text) if text.startswith('"') else text


def parse(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return hcl2.load(handle)


@dataclass
class Config:
    """The blocks of every ``*.tf`` file of one folder, by kind and name."""

    folder: Path = FOLDER
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ``(type, name)`` -> the file that declares it
    files: dict[tuple[str, str], str] = field(default_factory=dict)


def load(folder: Path = FOLDER) -> Config:
    config = Config(folder=folder)
    for path in sorted(folder.glob("*.tf")):
        parsed = parse(path)
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                for name, body in named.items():
                    kind_, name_ = unquote(kind), unquote(name)
                    config.resources.setdefault(kind_, {})[name_] = body
                    config.files[(kind_, name_)] = path.name
        for block in parsed.get("variable", []):
            for name, body in block.items():
                config.variables[unquote(name)] = body
        for block in parsed.get("provider", []):
            for body in block.values():
                config.providers[unquote(body.get("alias", '""'))] = body
    return config


class Unsupported(ValueError):
    """An expression the tests cannot evaluate."""


class Evaluator:
    """Evaluates attribute values of a Config with the variables of one ``*.tfvars`` file."""

    def __init__(self, config: Config, tfvars: dict[str, Any]) -> None:
        self.config = config
        self.tfvars = tfvars

    def value(self, raw: Any) -> Any:
        if isinstance(raw, list):
            return [self.value(item) for item in raw]
        if isinstance(raw, dict):
            return {k: self.value(v) for k, v in raw.items() if k != "__is_block__"}
        if not isinstance(raw, str):
            return raw
        if raw.startswith("${") and raw.endswith("}"):
            return self.expression(raw[2:-1])
        if "${" in raw:
            raise Unsupported(f"string template {raw}")
        return unquote(raw)

    def expression(self, text: str) -> Any:
        match = PROVIDER.fullmatch(text)
        if match:
            if match[1] not in self.config.providers:
                raise Unsupported(f"{text}: no provider with alias {match[1]}")
            return text
        match = REFERENCE.fullmatch(text)
        if match:
            kind, name, attribute = match.groups()
            body = self.config.resources.get(kind, {}).get(name)
            if body is None:
                raise Unsupported(f"{text}: no resource {kind}.{name}")
            own = str(self.value(body["name"]))
            if attribute == "name":
                return own
            parent = self.value(body["database"]) if "database" in body else None
            return ".".join(f'"{part}"' for part in ([parent] if parent else []) + [own])
        match = VARIABLE.fullmatch(text)
        if match:
            name, key, attribute = match.groups()
            declared = self.config.variables.get(name)
            if declared is None:
                raise Unsupported(f"{text}: no variable {name}")
            if name not in self.tfvars:
                if declared.get("sensitive") is True:
                    return f"<sensitive {text}>"
                raise Unsupported(f"{text}: not set in the tfvars file")
            found = self.value(self.tfvars[name])
            if key is not None:
                found = found[key]
            if attribute is not None:
                found = found[attribute]
            return found
        raise Unsupported(text)


def unqualified(name: str) -> str:
    """``"DB"."SCHEMA"`` -> ``DB.SCHEMA``, as the SQL parser writes names."""
    return name.replace('"', "")


def to_objects(config: Config, tfvars: dict[str, Any]) -> tuple[Any, dict[str, str], list[str]]:
    """(the Scripts object of the configuration, owner of each object, problems).

    Owners are keyed ``'<kind> <NAME>'`` (kind as in Scripts: ``databases``, ...).
    """
    scripts_module = snowflake_scripts()
    found = scripts_module.Scripts()
    owners: dict[str, str] = {}
    problems: list[str] = []
    handovers: dict[str, str] = {}  # snowflake_grant_ownership: the owner after creation
    evaluate = Evaluator(config, tfvars)
    kinds = {
        "snowflake_database": "databases",
        "snowflake_schema": "schemas",
        "snowflake_warehouse": "warehouses",
        "snowflake_resource_monitor": "monitors",
        "snowflake_account_role": "roles",
        "snowflake_service_user": "users",
    }
    for kind, named in sorted(config.resources.items()):
        for name, raw in sorted(named.items()):
            where = f"{config.files[(kind, name)]}: {kind}.{name}"
            try:
                body = evaluate.value(raw)
            except (Unsupported, KeyError) as error:
                problems.append(f"{where}: cannot evaluate {error}")
                continue
            role = str(body.get("provider", "")).removeprefix("snowflake.").upper()
            if kind in kinds:
                props = {k: str(v).lower() if isinstance(v, bool) else v for k, v in body.items()}
                props.pop("provider", None)
                qualified = props.pop("name")
                if kind == "snowflake_schema":
                    qualified = f"{props.pop('database')}.{qualified}"
                if kind == "snowflake_resource_monitor":
                    props["triggers"] = {
                        **{int(p): "NOTIFY" for p in props.pop("notify_triggers", [])},
                        **{int(props.pop("suspend_trigger")): "SUSPEND"},
                        **{int(props.pop("suspend_immediate_trigger")): "SUSPEND_IMMEDIATE"},
                    }
                if kind == "snowflake_service_user":
                    props["type"] = "service"
                if "resource_monitor" in props:
                    props["resource_monitor"] = unqualified(props["resource_monitor"])
                getattr(found, kinds[kind])[qualified] = props
                owners[f"{kinds[kind]} {qualified}"] = role
            elif kind == "snowflake_grant_privileges_to_account_role":
                found.grants |= grants_of(scripts_module, body, problems, where)
            elif kind == "snowflake_grant_account_role":
                grantee_kind = "USER" if "user_name" in body else "ROLE"
                grantee = body.get("user_name", body.get("parent_role_name"))
                found.memberships.add((body["role_name"], grantee_kind, grantee))
            elif kind == "snowflake_grant_ownership":
                on = body["on"][0]
                target = f"{on['object_type'].lower()}s {unqualified(on['object_name'])}"
                handovers[target] = body["account_role_name"]
            else:
                problems.append(f"{where}: resource type the tests do not know")
    owners.update(handovers)
    return found, owners, problems


def grants_of(scripts_module: ModuleType, body: dict, problems: list[str], where: str) -> set:
    """The ``Grant`` objects of one snowflake_grant_privileges_to_account_role."""
    grantee = body["account_role_name"]
    targets: list[tuple[str, str]] = []
    for block in body.get("on_account_object", []):
        targets.append((block["object_type"], unqualified(block["object_name"])))
    for block in body.get("on_schema", []):
        targets.append(("SCHEMA", unqualified(block["schema_name"])))
    for block in body.get("on_schema_object", []):
        for scope in ("all", "future"):
            for inner in block.get(scope, []):
                on = f"{scope.upper()} {inner['object_type_plural']} IN SCHEMA"
                targets.append((on, unqualified(inner["in_schema"])))
    if len(targets) != 1 or not body.get("privileges"):
        problems.append(f"{where}: needs privileges and exactly one on_* target")
        return set()
    on, name = targets[0]
    return {scripts_module.Grant(p, on, name, grantee) for p in body["privileges"]}


def tfvars(name: str, folder: Path = FOLDER) -> dict[str, Any]:
    """The variables of environments/<name>.tfvars."""
    parsed = parse(folder / "environments" / f"{name}.tfvars")
    return {k: v for k, v in parsed.items() if not k.startswith("__")}
