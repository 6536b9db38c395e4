"""infrastructure/helm/ for the tests: its values files, merged as Helm merges them, and the chart.

helm-python-sdk runs Helm 4's own lint and template engine in-process (no helm binary,
no cluster, no chart repository), so only charts kept in the repository can be linted and
rendered: the project's pipeline-checks chart. The official Airflow chart is not available
offline; its values are checked against the keys of its schema (airflow-values.schema.json).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import yaml

HELM_DIR = Path("infrastructure/helm")
CHART = HELM_DIR / "charts/pipeline-checks"
AIRFLOW_SCHEMA = HELM_DIR / "airflow-values.schema.json"
#: Helm's spelling of the Kubernetes version of k8s_manifests.KUBERNETES_VERSION.
KUBE_VERSION = "v1.33.0"
#: Lint findings at or above this severity fail (Helm: 1 info, 2 warning, 3 error).
WARNING = 2


def sdk_installed() -> bool:
    return importlib.util.find_spec("helm_python") is not None


def environments(root: Path) -> list[str]:
    """The environments with a values-<environment>.yaml."""
    return sorted(p.stem.removeprefix("values-") for p in (root / HELM_DIR).glob("values-*.yaml"))


def read_values(path: Path) -> dict[str, Any]:
    """A values file (or any YAML mapping file) as a dict; an empty file is an empty dict."""
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def values_for(root: Path, environment: str) -> dict[str, Any]:
    """values.yaml, then values-<environment>.yaml over it, as Helm's `-f a.yaml -f b.yaml` does."""
    base = read_values(root / HELM_DIR / "values.yaml")
    return merge(base, read_values(root / HELM_DIR / f"values-{environment}.yaml"))


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of two values files: maps merge, anything else (lists too) is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def lint_findings(chart: Path, values: dict[str, Any] | None) -> list[str]:
    """`helm lint --strict` of a chart with these values: its warnings and errors."""
    import helm_python as helm

    report = helm.lint(chart, values, strict=True, kube_version=KUBE_VERSION)
    found = [f"{m['path']}: {m['error']}" for m in report["messages"] if m["severity"] >= WARNING]
    return found + list(report["errors"])


def render(chart: Path, values: dict[str, Any] | None, namespace: str) -> dict[str, str]:
    """`helm template` of a chart: rendered file name to manifest text."""
    import helm_python as helm

    with helm.Chart.load(chart) as loaded:
        return loaded.render(values, name=chart.name, namespace=namespace)
