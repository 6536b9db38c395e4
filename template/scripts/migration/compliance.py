"""The compliance item of the checklist: what the dbt catalog says, not which files exist.

Read from ``dbt/target/manifest.json`` (``dbt parse`` writes it; `make migration-check` runs it
first) and checked on content:

- every mart has an owner (meta ``owner``);
- every column classified pii (column meta ``classification: pii``) of a model, snapshot, seed
  or source has a masking policy (its node runs the post-hook ``apply_masking_policies()`` of
  dbt/macros/masking_policies.sql, var ``apply_masking_policies`` is not false, its meta
  ``mask`` is one the macro knows) or an explicit waiver: meta ``masking_waiver`` saying why,
  on the column, its node or (for a source table) its source;
- audit logging covers every schema that holds pii: the audit model ``audit_column_access``
  (dbt/models/audit/, Snowflake's ACCESS_HISTORY joined to the classified columns) is in the
  project and not switched off, and, with the snowflake component, the account setup
  (security/audit_logs/snowflake_setup.sql) lets dbt read ACCESS_HISTORY.

Each check gives (status, why, command): status passed, failed or not checked; the command
is what would check it (not checked) or fix it (failed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

import yaml

MANIFEST = Path("dbt/target/manifest.json")
PARSE = "make lint"
PASSED, FAILED, NOT_CHECKED = "passed", "failed", "not checked"
MASKS = {"email", "last_two_digits", "full"}
WAIVER = "masking_waiver"
AUDIT_MODEL = "audit_column_access"
AUDIT_SETUP = Path("security/audit_logs/snowflake_setup.sql")
#: The grant that lets the role building the audit views read ACCESS_HISTORY.
ACCESS_HISTORY_GRANT = re.compile(
    r"grant\s+database\s+role\s+snowflake\.governance_viewer\s+to\s+role", re.IGNORECASE
)


class Check(NamedTuple):
    status: str
    why: str
    command: str = ""


class Catalog(NamedTuple):
    """The parts of dbt's manifest the checks read."""

    nodes: list[dict[str, Any]]  # enabled models, snapshots, seeds and sources of the project
    disabled: list[dict[str, Any]]  # disabled ones (the audit models off Snowflake)
    variables: dict[str, Any]  # vars of dbt_project.yml


def stale(root: Path, manifest: Path) -> list[str]:
    """The dbt files changed after the manifest was written."""
    written, dbt = manifest.stat().st_mtime, root / "dbt"
    skip = {"target", "logs", "dbt_packages"}
    return sorted(
        path.relative_to(root).as_posix()
        for path in dbt.rglob("*")
        if path.suffix in {".yml", ".yaml", ".sql"}
        and not skip.intersection(path.relative_to(dbt).parts)
        and path.stat().st_mtime > written
    )


def load(root: Path, manifest: Path | None = None) -> Catalog | Check:
    """The catalog, or the check that says why it cannot be read."""
    path = manifest or root / MANIFEST
    shown = MANIFEST if manifest is None else path
    if not path.is_file():
        return Check(NOT_CHECKED, f"no {shown} yet (dbt parse writes it)", PARSE)
    if newer := stale(root, path):
        why = f"{newer[0]} changed after {shown} was written"
        return Check(NOT_CHECKED, why, PARSE)
    try:
        parsed = json.loads(path.read_text())
        project = yaml.safe_load((root / "dbt" / "dbt_project.yml").read_text())
        name = project["name"]
        nodes = [*parsed["nodes"].values(), *parsed["sources"].values()]
        disabled = [n for versions in parsed.get("disabled", {}).values() for n in versions]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError) as error:
        return Check(NOT_CHECKED, f"{shown} is unreadable ({error})", PARSE)
    kinds = {"model", "snapshot", "seed", "source"}
    ours = [n for n in nodes if n.get("resource_type") in kinds and n.get("package_name") == name]
    return Catalog(ours, disabled, (project.get("vars") or {}))


def meta(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry's meta (dbt keeps it in ``meta`` and in ``config.meta``)."""
    return {**((entry.get("config") or {}).get("meta") or {}), **(entry.get("meta") or {})}


def label(node: dict[str, Any]) -> str:
    if node["resource_type"] == "source":
        return f"{node['source_name']}.{node['name']}"
    return node["name"]


def pii_columns(node: dict[str, Any]) -> list[str]:
    columns = (node.get("columns") or {}).items()
    return [name for name, column in columns if meta(column).get("classification") == "pii"]


def stored(node: dict[str, Any]) -> bool:
    """The node is a table or view somewhere (an ephemeral model is not)."""
    return (node.get("config") or {}).get("materialized") != "ephemeral"


def owners(catalog: Catalog) -> Check:
    marts = [
        n
        for n in catalog.nodes
        if n["resource_type"] == "model" and "marts" in (n.get("fqn") or [])[1:-1]
    ]
    if not marts:
        return Check(FAILED, "no mart in dbt/models/marts/: the consumers have nothing to read")
    missing = sorted(n["name"] for n in marts if not str(meta(n).get("owner") or "").strip())
    if missing:
        why = f"{len(missing)} of {len(marts)} mart(s) without meta owner: " + ", ".join(missing)
        return Check(FAILED, why, "set `config: {meta: {owner: <team>}}` in their YAML")
    return Check(PASSED, f"all {len(marts)} marts have an owner")


def waiver(node: dict[str, Any], column: str) -> str:
    for where in (node["columns"][column], node, {"meta": node.get("source_meta") or {}}):
        if reason := str(meta(where).get(WAIVER) or "").strip():
            return reason
    return ""


def masked(node: dict[str, Any], column: str, variables: dict[str, Any]) -> str:
    """Why the column has no masking policy ('' when it has one)."""
    if node["resource_type"] not in {"model", "snapshot"}:
        return f"a {node['resource_type']} gets no masking policy"
    hooks = (node.get("config") or {}).get("post-hook") or []
    if not any("apply_masking_policies" in str(hook.get("sql", hook)) for hook in hooks):
        return "its node does not run the post-hook apply_masking_policies()"
    if str(variables.get("apply_masking_policies", True)).lower() == "false":
        return "var apply_masking_policies is false in dbt/dbt_project.yml"
    mask = meta(node["columns"][column]).get("mask")
    if mask is not None and mask not in MASKS:
        return f"meta mask {mask!r} is not one of {', '.join(sorted(MASKS))}"
    return ""


def masking(catalog: Catalog, fix: str) -> Check:
    columns = waived = 0
    unmasked: list[str] = []
    for node in catalog.nodes:
        for column in pii_columns(node) if stored(node) else []:
            columns += 1
            if reason := masked(node, column, catalog.variables):
                if waiver(node, column):
                    waived += 1
                else:
                    unmasked.append(f"{label(node)}.{column} ({reason})")
    if unmasked:
        why = f"{len(unmasked)} of {columns} pii column(s) neither masked nor waived: "
        return Check(FAILED, why + "; ".join(unmasked), fix)
    if not columns:
        return Check(PASSED, "no column is classified pii")
    return Check(PASSED, f"{columns} pii columns: {columns - waived} masked, {waived} waived")


def pii_schemas(catalog: Catalog) -> list[str]:
    found = {n["schema"] for n in catalog.nodes if stored(n) and pii_columns(n)}
    return sorted(found)


def audit_model_switched_off(root: Path, node: dict[str, Any], variables: dict) -> str:
    """Why the audit model never builds ('' when it builds on Snowflake targets)."""
    if str(variables.get("build_audit_logs", True)).lower() == "false":
        return "var build_audit_logs is false in dbt/dbt_project.yml"
    patch = str(node.get("patch_path") or "").split("://")[-1]
    try:
        document = yaml.safe_load((root / "dbt" / patch).read_text()) if patch else {}
    except (OSError, yaml.YAMLError):
        document = {}
    for model in (document or {}).get("models") or []:
        if model.get("name") == AUDIT_MODEL:
            enabled = (model.get("config") or {}).get("enabled", True)
            if str(enabled).strip().lower() == "false":
                return f"`enabled: false` in dbt/{patch}"
    return ""


def audit(
    root: Path, catalog: Catalog, components: Iterable[str], add: Callable[[str], str]
) -> Check:
    schemas = pii_schemas(catalog)
    if not schemas:
        return Check(PASSED, "no schema holds a column classified pii")
    shown = ", ".join(schemas)
    candidates = [n for n in [*catalog.nodes, *catalog.disabled] if n.get("name") == AUDIT_MODEL]
    if not candidates:
        why = f"no audit model {AUDIT_MODEL}: nothing records who reads the pii of {shown}"
        return Check(FAILED, why, add("security"))
    if off := audit_model_switched_off(root, candidates[0], catalog.variables):
        why = f"{AUDIT_MODEL} never builds ({off}): reads of the pii of {shown} go unrecorded"
        return Check(FAILED, why, "switch it back on (security/audit_logs/README.md)")
    if "snowflake" not in components:
        why = (
            f"{AUDIT_MODEL} covers {shown} on Snowflake, and this repository has no Snowflake "
            "account setup to grant it ACCESS_HISTORY (snowflake component)"
        )
        return Check(NOT_CHECKED, why, add("snowflake"))
    setup = root / AUDIT_SETUP
    text = setup.read_text() if setup.is_file() else ""
    if not ACCESS_HISTORY_GRANT.search(text):
        why = f"{AUDIT_SETUP} does not grant SNOWFLAKE.GOVERNANCE_VIEWER: {AUDIT_MODEL} cannot read"
        return Check(FAILED, why + " ACCESS_HISTORY", f"restore the grant in {AUDIT_SETUP}")
    return Check(PASSED, f"{AUDIT_MODEL} records every read of pii in {shown}")


def checks(
    root: Path, components: list[str], add: Callable[[str], str], manifest: Path | None = None
) -> dict[str, Check]:
    """The three checks by name; each not checked while the manifest is missing or stale."""
    catalog = load(root, manifest)
    names = ("mart owners", "pii masking", "audit logging")
    if isinstance(catalog, Check):
        return dict.fromkeys(names, catalog)
    fix = f"{add('security')}, or give each a meta {WAIVER} saying why"
    if "security" in components:
        fix = f"set meta {WAIVER} saying why, or mask it (dbt/macros/masking_policies.sql)"
    return dict(
        zip(
            names,
            (
                owners(catalog),
                masking(catalog, fix),
                audit(root, catalog, components, add),
            ),
            strict=True,
        )
    )
