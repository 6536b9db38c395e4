"""checkov passes on the rendered infrastructure and Dockerfiles of every named variant.

checkov (tests/requirements-checkov.txt, in .venv-checkov: `make checkov-venv`) scans what
a variant renders for Kubernetes, Helm, Terraform, Ansible and Docker: the Dockerfiles and
infrastructure/ (``--framework dockerfile kubernetes terraform ansible``), then the manifests
the cluster would receive, infrastructure/kubernetes/ together with the pipeline-checks chart
as Helm renders it (helm-python-sdk, in the same venv), so graph checks such as "every pod has
a NetworkPolicy" see both. No check may fail. A check is skipped only where the file says why
(an inline ``checkov:skip=CKV_...:reason`` comment or a ``checkov.io/skipN`` annotation), and
the full render holds at most :data:`MAX_SKIPS` of them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from catalog import named_variants
from conftest import ROOT, require_tool
from rendering import render, snapshot

#: The components whose files checkov has checks for: Dockerfiles, workloads, playbooks.
#: Terraform's files are scanned too, but checkov 3.3 knows no Snowflake resource, and
#: infrastructure/kubernetes/ alone holds a workload only with prometheus (the statsd exporter).
SCANNED = {"docker", "astronomer", "helm", "ansible"}
VARIANTS = {
    name: keys
    for name, keys in named_variants().items()
    if SCANNED & set(keys) or {"kubernetes", "prometheus"} <= set(keys)
}
#: The venv of tests/requirements-checkov.txt; CHECKOV_VENV names another one.
CHECKOV_VENV = Path(os.environ.get("CHECKOV_VENV") or ROOT / ".venv-checkov")
CHART = Path("infrastructure/helm/charts/pipeline-checks")
#: At most this many skipped checks in the full render, each with its reason in the file.
MAX_SKIPS = 5
RENDER_CHART = """
import sys
from pathlib import Path

import helm_python as helm
import yaml

chart, values, namespace, out = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
with helm.Chart.load(chart) as loaded:
    files = loaded.render(yaml.safe_load(values.read_text()), name=chart.name, namespace=namespace)
for name, text in files.items():
    if text.strip():
        (out / ("chart-" + Path(name).name)).write_text(text)
"""


def checkov_venv() -> Path:
    found = (CHECKOV_VENV / "bin" / "checkov").is_file()
    require_tool(found, f"checkov in {CHECKOV_VENV} (make checkov-venv)")
    return CHECKOV_VENV


def run_checkov(*args: str, cwd: Path) -> list[dict]:
    """checkov's JSON reports (one per framework) of a scan."""
    checkov = str(checkov_venv() / "bin" / "checkov")
    result = subprocess.run(
        [checkov, "--skip-download", "--quiet", "--output", "json", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # 0: nothing failed; 1: a check failed; anything else: checkov could not run.
    assert result.returncode in {0, 1}, result.stderr[-3000:]
    reports = json.loads(result.stdout or "[]")
    reports = reports if isinstance(reports, list) else [reports]
    # A folder without anything to scan gives a summary without check_type.
    return [report for report in reports if "check_type" in report]


def cluster_folder(project: Path, work: Path) -> Path | None:
    """infrastructure/kubernetes/ with the pipeline-checks chart rendered next to it."""
    manifests = project / "infrastructure" / "kubernetes"
    if not manifests.is_dir():
        return None
    folder = Path(shutil.copytree(manifests, work / "cluster"))
    for readme in folder.glob("*.md"):
        readme.unlink()
    if (project / CHART).is_dir():
        namespace = next(
            doc["metadata"]["name"]
            for doc in yaml.safe_load_all((manifests / "namespace.yaml").read_text())
            if doc and doc["kind"] == "Namespace"
        )
        values = project / "infrastructure" / "helm" / "values.yaml"
        python = str(checkov_venv() / "bin" / "python")
        result = subprocess.run(
            [python, "-c", RENDER_CHART, str(project / CHART), str(values), namespace, str(folder)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert list(folder.glob("chart-*.yaml")), f"{CHART} rendered nothing"
    return folder


def scan(project: Path, work: Path) -> list[dict]:
    """Every report of the two scans: the project (Dockerfiles, infrastructure/), the cluster."""
    reports = run_checkov(
        "--directory",
        ".",
        "--framework",
        "dockerfile",
        "kubernetes",
        "terraform",
        "ansible",
        "--skip-path",
        "infrastructure/kubernetes",
        "--skip-path",
        "infrastructure/helm/charts",
        cwd=project,
    )
    cluster = cluster_folder(project, work)
    if cluster is not None:
        reports += run_checkov("--directory", str(cluster), "--framework", "kubernetes", cwd=work)
    return reports


def checks(reports: list[dict], outcome: str) -> list[str]:
    """`CKV_ID file resource: name (reason)` of each failed or skipped check."""
    found = []
    for report in reports:
        for check in report["results"].get(f"{outcome}_checks", []):
            reason = (check.get("check_result") or {}).get("suppress_comment") or ""
            found.append(
                f"{check['check_id']} {check['file_path']} {check['resource']}: "
                f"{check['check_name']}" + (f" (skipped: {reason})" if outcome == "skipped" else "")
            )
    return found


def totals(reports: list[dict]) -> dict[str, int]:
    keys = ("passed", "failed", "skipped")
    return {key: sum(report["summary"][key] for report in reports) for key in keys}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(tmp_path_factory.mktemp("template") / "repo")


@pytest.mark.slow
@pytest.mark.parametrize("name", list(VARIANTS))
def test_checkov_passes_on_the_rendered_infrastructure(
    template: Path, tmp_path: Path, name: str
) -> None:
    checkov_venv()
    project = render(template, tmp_path / "p", VARIANTS[name])

    reports = scan(project, tmp_path)

    counts = totals(reports)
    print(f"checkov on {name}: {counts}")
    assert counts["passed"], f"checkov checked nothing in the {name} render"
    failed = checks(reports, "failed")
    assert not failed, f"checkov on the {name} render:\n" + "\n".join(failed)
    skipped = checks(reports, "skipped")
    unexplained = [s for s in skipped if s.endswith("(skipped: )")]
    assert not unexplained, "skipped without a reason in the file:\n" + "\n".join(unexplained)
    assert len(skipped) <= MAX_SKIPS, f"{len(skipped)} skips, at most {MAX_SKIPS}:\n" + "\n".join(
        skipped
    )


@pytest.mark.slow
def test_checkov_fails_on_a_weakened_render(template: Path, tmp_path: Path) -> None:
    checkov_venv()
    project = render(template, tmp_path / "p", ["airflow", "docker", "kubernetes", "helm"])
    dockerfile = project / "airflow" / "Dockerfile"
    text = dockerfile.read_text(encoding="utf-8")
    assert "\nUSER airflow\n" in text and "\nHEALTHCHECK " in text
    dockerfile.write_text(
        text.replace("\nUSER airflow\n", "\n").replace("\nHEALTHCHECK ", "\n# HEALTHCHECK "),
        encoding="utf-8",
    )
    pod = project / CHART / "templates" / "dbt-debug-test.yaml"
    text = pod.read_text(encoding="utf-8")
    assert "readOnlyRootFilesystem: true" in text
    pod.write_text(text.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"))

    failed = {line.split()[0] for line in checks(scan(project, tmp_path), "failed")}

    # USER and HEALTHCHECK of the Dockerfile; the read-only root filesystem of the chart's pod.
    assert {"CKV_DOCKER_2", "CKV_DOCKER_3", "CKV_K8S_22"} <= failed, failed
