"""The render matrix: every named and pairwise variant renders exactly what the catalog says."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from catalog import KEYS, expected_paths, named_variants, pairwise_variants, valid_pairs
from conftest import require_tool
from copier import run_copy
from rendering import NOT_PARSED, parse_data_file, render, rendered_files, snapshot, tree_bytes

VARIANTS = {**named_variants(), **pairwise_variants()}
#: The seed layout (the design's table of what each component owns in the rendered repo):
#: every path of it is in the full render.
SEED_LAYOUT = """
README.md QUICKSTART.md Makefile pyproject.toml .env.example .gitignore .pre-commit-config.yaml
.copier-answers.yml dbt dbt/models dbt/macros dbt/tests dbt/seeds dbt/dbt_project.yml
scripts scripts/setup scripts/migration scripts/utilities
docs docs/architecture docs/patterns docs/migration
tests tests/unit tests/integration tests/data_quality
snowflake snowflake/schemas snowflake/warehouses snowflake/roles snowflake/permifrost
airflow airflow/dags airflow/plugins airflow/config airflow/requirements.txt
astronomer astronomer/Dockerfile astronomer/astronomer.yaml astronomer/docker-compose.yml
astronomer/requirements.txt docker-compose.yml
data_quality data_quality/great_expectations data_quality/profiles data_quality/validations
data_quality/reports
looker looker/models looker/explores looker/dashboards looker/data_sources
grafana grafana/dashboards grafana/datasources grafana/alerting
monitoring monitoring/prometheus monitoring/grafana monitoring/alerts monitoring/logs
qlik qlik/replication_tasks qlik/source_mappings qlik/monitoring
infrastructure/terraform infrastructure/kubernetes infrastructure/helm infrastructure/ansible
cicd/github-actions .github/workflows cicd/jenkins
security security/data_classification security/pii_detection security/audit_logs
security/compliance
""".split()
DATA_SUFFIXES = {".yml", ".yaml", ".json", ".toml"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(tmp_path_factory.mktemp("template") / "repo")


def test_matrix_covers_every_valid_pair() -> None:
    covered = {
        (a, b)
        for variant in pairwise_variants().values()
        for a in variant
        for b in variant
        if KEYS.index(a) < KEYS.index(b)
    }
    assert set(valid_pairs()) <= covered
    assert len(valid_pairs()) == len(KEYS) * (len(KEYS) - 1) // 2, (
        "the catalog declares no incompatible pair, so every pair must be valid"
    )


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_renders_its_layout(template: Path, tmp_path: Path, name: str) -> None:
    components = VARIANTS[name]
    project = render(template, tmp_path / "a", components)

    top_level = {path.name for path in project.iterdir()}
    expected = expected_paths(components)
    assert top_level == {path for path in expected if "/" not in path}
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert sorted(answers["components"]) == sorted(components), "the answers file differs"
    for owned in expected:
        assert (project / owned).exists(), f"{owned} missing in {name}"

    files = rendered_files(project)
    relative = [path.relative_to(project).as_posix() for path in files]
    assert not [path for path in relative if path.endswith(".jinja")]
    assert not [path for path in relative if "'" in path or '"' in path]
    assert not [path for path in project.rglob("*") if path.is_dir() and not any(path.iterdir())]

    for path in files:
        rel = path.relative_to(project)
        if path.suffix in DATA_SUFFIXES and not any(
            fnmatch.fnmatch(rel.as_posix(), g) for g in NOT_PARSED
        ):
            try:
                parse_data_file(path)
            except Exception as error:  # the message names the file for the reader
                pytest.fail(f"{rel} does not parse in {name}: {error}")

    again = render(template, tmp_path / "b", components)
    assert tree_bytes(project) == tree_bytes(again), "rendering twice differs"


def test_the_full_render_holds_the_seed_layout(template: Path, tmp_path: Path) -> None:
    project = render(template, tmp_path / "full", named_variants()["full"])
    missing = [path for path in SEED_LAYOUT if not (project / path).exists()]
    assert not missing, f"the full render lacks {len(missing)} of the seed's paths: {missing}"
    empty = [p for p in SEED_LAYOUT if (project / p).is_dir() and not any((project / p).iterdir())]
    assert not empty, f"seed folders without content: {empty}"


def test_defaults_render_the_useful_core(template: Path, tmp_path: Path) -> None:
    run_copy(
        str(template),
        str(tmp_path / "p"),
        data={"project_name": "Orders Prototype"},
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    recorded = yaml.safe_load((tmp_path / "p" / ".copier-answers.yml").read_text())
    assert recorded["components"] == list(named_variants()["defaults"])
    assert recorded["components"] == [
        "snowflake",
        "airflow",
        "docker",
        "great_expectations",
        "github_actions",
    ]
    for derived in ("project_slug", "package_name", "deployment_target"):
        assert derived not in recorded, f"{derived} is derived and must not be stored"
    assert recorded["snowflake_database_prefix"] == "ORDERS_PROTOTYPE"


def test_snowflake_questions_only_with_snowflake(template: Path, tmp_path: Path) -> None:
    project = render(template, tmp_path / "p", ["airflow"])
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert not [key for key in recorded if key.startswith("snowflake_")]
    assert "prod:" not in (project / "dbt" / "profiles.yml").read_text()


def test_the_full_render_passes_its_own_ruff(template: Path, tmp_path: Path) -> None:
    """The rendered repo's `make lint` runs ruff with its own pyproject; a slip in the
    template's Python fails here in seconds instead of in every boot. The project name is
    as long as the validator allows (40 characters), so names written into the code never
    push a line past ruff's limit."""
    ruff = Path(sys.executable).parent / "ruff"
    require_tool(ruff.exists(), "ruff in the template's .venv")
    longest = "Abcdefghij Klmnopqrst Uvwxyzabcd Efghijk"
    assert len(longest) == 40
    project = render(template, tmp_path / "full", named_variants()["full"], project_name=longest)
    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = subprocess.run(
            [str(ruff), *command], cwd=project, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"ruff {command[0]} fails on the render:\n{result.stdout}"
