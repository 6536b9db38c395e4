"""Shared fixtures and helpers of the repository's tests.

A component's tests live in tests/<component>/; the helpers of one component's tests can be
imported by the tests of a component that requires it (tests/grafana/ imports
tests/prometheus/monitoring_helpers.py), so every folder of tests/ is on sys.path.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(path) for path in sorted(Path(__file__).parent.iterdir()) if path.is_dir()]
#: Under CI=true a test whose tool is missing fails instead of skipping.
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


#: The test files that take longest, started first so that the test processes of `make test`
#: (one per core, a file whole in one process) finish at about the same time; the sample
#: warehouse's first user comes early, so later users find it built. Absent files are skipped.
LONGEST_FIRST = (
    "airflow/test_dag_run.py",
    "airflow/test_dbt_venv.py",
    "snowflake/test_snowflake_emulator.py",
    "data_quality/test_pipeline.py",
    "prometheus/test_pipeline_metrics.py",
    "airflow/test_airflow_up.py",
    "airflow/test_freshness.py",
    "great_expectations/test_checkpoint.py",
    "security/test_audit_logs.py",
    "security/test_pii_scan.py",
    "security/test_masking.py",
    "integration/test_dbt.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    here = Path(__file__).parent

    def place(item: pytest.Item) -> int:
        path = Path(item.path)
        name = path.relative_to(here).as_posix() if path.is_relative_to(here) else ""
        return rank.get(name, len(rank))

    items.sort(key=place)  # stable: the other files keep their order


def require(found: bool, what: str) -> None:
    """Skip locally, fail in CI, when a tool a test needs is missing."""
    if found:
        return
    if IN_CI:
        pytest.fail(f"{what} is missing: run `make setup`", pytrace=False)
    pytest.skip(f"{what} is missing: run `make setup`")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


# The sample warehouse that several components' tests read, built once per `make test`.

#: The sample data of the tests: 200 customers, 1,000 orders (about 15 s per dbt build).
SAMPLE_SCALE = "0.2"
SAMPLE_SEED = "42"


def dbt_executable() -> str:
    """dbt from the PATH (`make test`), else next to this Python (`.venv/bin/pytest`)."""
    found = shutil.which("dbt") or shutil.which("dbt", path=str(Path(sys.executable).parent))
    require(found is not None, "dbt")
    assert found is not None
    return found


def dbt_env(database: Path, work: Path) -> dict[str, str]:
    """dbt on a scratch DuckDB file with the `ci` target, its target/ and logs/ in ``work``."""
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(ROOT / "dbt"),
        "DBT_DUCKDB_PATH": str(database),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    env.pop("DBT_SCHEMA_PREFIX", None)  # the plain schema names (marts, ...) the tests query
    return env


def run_step(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    output = (result.stdout + result.stderr)[-6000:]
    assert result.returncode == 0, f"{' '.join(command[:3])} ... failed:\n{output}"


@dataclass(frozen=True)
class SampleWarehouse:
    """The demo pipeline's two builds, as `make demo` runs them, at the tests' scale.

    ``initial`` and ``latest`` are folders holding ``warehouse.duckdb``, the generator's
    ``loads/`` and dbt's ``target/``: after the initial load's `dbt build`, and after
    increment 1 and the second `dbt build`. They are shared by every test of the session:
    read them (DuckDB ``read_only=True``), and change only a :meth:`copy`.
    """

    initial: Path
    latest: Path

    def copy(self, folder: Path, stage: str = "latest") -> Path:
        """The stage's warehouse file and load manifests copied into ``folder``."""
        source = getattr(self, stage)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / "warehouse.duckdb", folder / "warehouse.duckdb")
        shutil.copytree(source / "loads", folder / "loads", dirs_exist_ok=True)
        return folder / "warehouse.duckdb"


def build_sample(folder: Path) -> SampleWarehouse:
    dbt = dbt_executable()
    generate = [sys.executable, str(ROOT / "scripts" / "utilities" / "generate_data.py")]
    build = [dbt, "build", "--project-dir", str(ROOT / "dbt"), "--target", "ci"]
    initial, latest = folder / "initial", folder / "latest"
    database = initial / "warehouse.duckdb"
    env = dbt_env(database, initial)
    sample = ["--scale", SAMPLE_SCALE, "--seed", SAMPLE_SEED]
    run_step([*generate, "--database", str(database), *sample], env)
    run_step(build, env)
    shutil.copytree(initial, latest)  # target/ too: the second build reuses dbt's partial parse
    database = latest / "warehouse.duckdb"
    env = dbt_env(database, latest)
    shutil.rmtree(latest / "target" / "run")
    run_step([*generate, "--database", str(database), "--increment", "1"], env)
    run_step(build, env)
    return SampleWarehouse(initial, latest)


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> SampleWarehouse:
    """Built once per session, by the first test process that needs it (pytest-xdist runs
    `make test` in one process per core): the others wait for it and share the result."""
    dbt_executable()
    require(importlib.util.find_spec("duckdb") is not None, "duckdb")
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the folder every process of this session shares
    folder = shared / "sample_warehouse"
    with open(shared / "sample_warehouse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = folder / "built"
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            build_sample(folder)
            done.touch()
    return SampleWarehouse(folder / "initial", folder / "latest")


# The Makefile and the Node.js tools that the CI checks (tests/github_actions, tests/jenkins) share.

#: A rule of the Makefile: `name:` or `name: prerequisites` (not `NAME := value`).
MAKE_RULE = re.compile(r"^([A-Za-z0-9_.][A-Za-z0-9_./-]*)[ \t]*:(?!=)", re.MULTILINE)
#: `make TARGET` at the start of a shell command (after a separator or at the start).
MAKE_CALL = re.compile(r"(?:^|[;&|(])[ \t]*make\s+([A-Za-z0-9_.][A-Za-z0-9_./-]*)", re.MULTILINE)


def make_targets(root: Path) -> set[str]:
    return set(MAKE_RULE.findall((root / "Makefile").read_text(encoding="utf-8")))


def make_calls(command: str) -> list[str]:
    """The make targets a shell command runs (the first target of each `make` call)."""
    return MAKE_CALL.findall(command)


def node() -> str:
    """The node executable; skips locally, fails under CI=true, when Node.js is missing."""
    found = shutil.which("node")
    require(found is not None, "node (Node.js 20 or later)")
    assert found is not None
    return found


def npm_package(folder: Path, package: str) -> Path:
    """The installed npm package of a cicd/ folder (installed by `make setup` with npm ci)."""
    path = folder / "node_modules" / package
    require(
        (path / "package.json").is_file(),
        f"the npm package {package} in {folder.name}/node_modules (npm ci --prefix {folder})",
    )
    return path
