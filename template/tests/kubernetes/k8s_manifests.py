"""Kubernetes manifests of the repository: loading them and checking them with kubernetes-validate.

Why not only the CLI: `kubernetes-validate` prints a WARN and exits 0 for a kind it has no
schema for (any custom resource: PrometheusRule, ServiceMonitor, ExternalSecret, ...), so an
unchecked object would pass. `problems` turns that into a failure, naming the object. The
Kubernetes version is pinned so a new kubernetes-validate release cannot move the target.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

#: The Kubernetes version every manifest is validated against (kubernetes-validate bundles 1.25+).
KUBERNETES_VERSION = "1.33"
#: Relative to the repository root.
KUBERNETES_DIR = Path("infrastructure/kubernetes")
#: Suffixes of Kubernetes quantities ("500m" cpu, "2Gi" memory), longest first.
QUANTITY_UNITS = (("Ki", 2**10), ("Mi", 2**20), ("Gi", 2**30), ("Ti", 2**40))
QUANTITY_UNITS += (("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12))


def validator_installed() -> bool:
    return importlib.util.find_spec("kubernetes_validate") is not None


def manifest_files(root: Path) -> list[Path]:
    return sorted((root / KUBERNETES_DIR).glob("*.yaml"))


def documents(text: str) -> list[dict[str, Any]]:
    """The objects of a (multi-document) YAML text, empty documents left out."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def load(path: Path) -> list[dict[str, Any]]:
    return documents(path.read_text(encoding="utf-8"))


def all_objects(root: Path) -> list[dict[str, Any]]:
    return [obj for path in manifest_files(root) for obj in load(path)]


def ident(obj: dict[str, Any]) -> str:
    """kind/name, as kubectl prints an object."""
    return f"{obj.get('kind', '?')}/{obj.get('metadata', {}).get('name', '?')}"


def problems(obj: dict[str, Any]) -> list[str]:
    """What kubernetes-validate --strict finds wrong with an object; an unknown kind fails."""
    from kubernetes_validate import utils

    try:
        utils.validate(obj, KUBERNETES_VERSION, strict=True)
    except utils.ValidationError as error:
        where = ".".join(str(part) for part in error.path) or "(top level)"
        return [f"{ident(obj)}: {where}: {error.message}"]
    except utils.SchemaNotFoundError:
        return [
            f"{ident(obj)}: Kubernetes {KUBERNETES_VERSION} has no kind {obj.get('kind')} in "
            f"{obj.get('apiVersion')} (a custom resource?): kubernetes-validate cannot check it, "
            "so it does not belong here (see infrastructure/kubernetes/README.md)"
        ]
    return []


def fragment_problems(value: Any, type_name: str, where: str) -> list[str]:
    """Check a piece of an object (a Volume, an EnvVar, ...) against Kubernetes' own schema.

    type_name is kubernetes-validate's file stem for the type: volume, volumemount, envvar,
    resourcerequirements. The Helm values carry such pieces outside any whole object.
    """
    return [
        f"{where}.{'.'.join(str(p) for p in error.path)}: {error.message}".replace(".:", ":")
        for error in _fragment_validator(type_name).iter_errors(value)
    ]


@functools.cache
def _fragment_validator(type_name: str) -> Any:
    """A validator for one type of kubernetes-validate's strict schemas (loading them is slow)."""
    import jsonschema
    import referencing
    from kubernetes_validate import utils

    version = [v for v in utils.all_versions() if utils.major_minor(v) == KUBERNETES_VERSION][0]
    folder = f"kubernetes-json-schema/v{version}-local-strict"
    schema = utils.schema_contents(f"{folder}/{type_name}-v1.json", KUBERNETES_VERSION)
    registry = referencing.Registry().with_resources(
        [
            ("", referencing.Resource.from_contents(schema)),
            ("/api/_definitions.json", referencing.Resource.from_contents(_definitions(folder))),
        ]
    )
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.cache
def _definitions(folder: str) -> Any:
    from kubernetes_validate import utils

    return utils.schema_contents(f"{folder}/_definitions.json", KUBERNETES_VERSION)


def pod_templates(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The pod template of a workload object (Deployment, StatefulSet, ...), if it has one."""
    template = obj.get("spec", {}).get("template")
    if isinstance(template, dict):
        yield template


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    """A matchLabels selector (or a Service selector) selects these labels."""
    return all(labels.get(key) == value for key, value in selector.items())


def quantity(value: str | float) -> float:
    """A Kubernetes quantity as a number: "500m" is 0.5, "2Gi" is 2 * 1024**3."""
    text = str(value)
    for unit, factor in QUANTITY_UNITS:
        if text.endswith(unit):
            return float(text.removesuffix(unit)) * factor
    return float(text)
