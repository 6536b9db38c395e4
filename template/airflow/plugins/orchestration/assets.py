"""The dbt marts as Airflow assets, and the dbt models' descriptions on their tasks.

Every mart (a model under dbt/models/marts/) is one asset, named after the target, schema
and model (`dev.marts.fct_orders`), with the URI `dbt://<project>/<target>/<schema>.<model>`.
The task that builds a mart in the main DAG declares it as an outlet, so a successful build
emits an asset event; the publish DAG is scheduled on those assets instead of a clock.
Outlets are declared when the DAG parses, not discovered while dbt runs (Cosmos's
`emit_datasets`, through OpenLineage and an asset alias), so the asset graph in the UI and
the publish DAG's schedule are known before the first run. The target is part of the
name: a mart built on `dev` never triggers what reads the production marts.

Both DAG files read dbt's manifest (dbt/target/manifest.json, `make airflow-manifest`),
which Cosmos reads too; loading it costs a few milliseconds of the parse.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from airflow.sdk import Asset

from orchestration import settings

#: The dbt folder (first part of a model's fqn after the project) whose models are marts.
MARTS_FOLDER = "marts"
#: The longest description shown on a task; the rest is on the dbt docs site.
DOC_LIMIT = 4000


@cache
def load_manifest(path: Path, modified_ns: int) -> Mapping[str, Any]:
    """The manifest at ``path`` as of ``modified_ns``: read once per version of the file."""
    return json.loads(path.read_text())


def manifest() -> Mapping[str, Any]:
    """dbt's manifest, read again when `make airflow-manifest` has rewritten it."""
    path = settings.dbt_manifest()
    return load_manifest(path, path.stat().st_mtime_ns)


def is_mart(node: Mapping[str, Any]) -> bool:
    fqn = node.get("fqn") or []
    return node.get("resource_type") == "model" and len(fqn) > 2 and fqn[1] == MARTS_FOLDER


def mart_nodes(nodes: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """unique_id -> node of every enabled mart, in name order."""
    marts = {
        unique_id: node
        for unique_id, node in nodes.items()
        if is_mart(node) and (node.get("config") or {}).get("enabled", True)
    }
    return dict(sorted(marts.items(), key=lambda item: item[1]["name"]))


def mart_asset(node: Mapping[str, Any], target: str | None = None) -> Asset:
    target = target or settings.dbt_target()
    schema = node.get("schema") or MARTS_FOLDER
    return Asset(
        name=f"{target}.{schema}.{node['name']}",
        uri=f"dbt://{settings.DBT_PROFILE}/{target}/{schema}.{node['name']}",
        group="dbt_marts",
    )


def mart_assets(target: str | None = None) -> dict[str, Asset]:
    """unique_id -> asset of every mart of the manifest."""
    nodes = manifest().get("nodes") or {}
    return {unique_id: mart_asset(node, target) for unique_id, node in mart_nodes(nodes).items()}


def doc_md(node: Mapping[str, Any]) -> str:
    """The task documentation of a dbt node: its description, file and documented columns."""
    description = (node.get("description") or "").strip() or "_No description in dbt._"
    lines = [
        f"**dbt {node.get('resource_type', 'node')} `{node.get('name')}`** "
        f"(`{node.get('original_file_path', '')}`)",
        "",
        description,
    ]
    columns = [
        (name, (column.get("description") or "").strip())
        for name, column in (node.get("columns") or {}).items()
    ]
    if columns:
        lines += ["", "| column | description |", "|---|---|"]
        lines += [f"| `{name}` | {text.replace('|', '/')} |" for name, text in columns]
    text = "\n".join(lines)
    return text if len(text) <= DOC_LIMIT else text[:DOC_LIMIT] + "\n\n(cut: see dbt docs)"


def node_tasks(item: Any) -> list[Any]:
    """The tasks Cosmos made for one node: a task, or the tasks of its task group."""
    children = getattr(item, "children", None)
    if children is None:
        return [item]
    tasks: list[Any] = []
    for child in children.values():
        tasks += node_tasks(child)
    return tasks


def builds(task: Any) -> bool:
    """Whether the task builds its node (not the test task of a model's group)."""
    return not task.task_id.endswith((".test", "_test"))


def annotate(tasks_map: Mapping[str, Any], marts: Mapping[str, Asset]) -> list[Asset]:
    """Give each dbt node's tasks its doc_md, and each mart's building task its asset.

    Returns the assets given, so the caller can check that every mart got one.
    """
    nodes = manifest().get("nodes") or {}
    given = []
    for unique_id, item in tasks_map.items():
        node = nodes.get(unique_id)
        if node is None:
            continue
        tasks = node_tasks(item)
        for task in tasks:
            task.doc_md = doc_md(node)
        asset = marts.get(unique_id)
        if asset is not None:
            for task in filter(builds, tasks):
                task.outlets = [*task.outlets, asset]
                given.append(asset)
    missing = set(assets_names(marts.values())) - set(assets_names(given))
    if missing:
        raise ValueError(
            f"no Cosmos task builds the marts {sorted(missing)}: run `make airflow-manifest` "
            "and check the dbt task group's selection"
        )
    return given


def assets_names(assets: Iterable[Asset]) -> list[str]:
    return [asset.name for asset in assets]
