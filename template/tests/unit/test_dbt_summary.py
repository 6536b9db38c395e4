"""scripts/utilities/dbt_summary.py: the one line `make demo` prints after each dbt build."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "utilities" / "dbt_summary.py"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def test_counts_each_status_in_dbt_order(tmp_path: Path) -> None:
    statuses = ["pass", "success", "pass", "warn", "fail", "success", "skipped", "error"]
    results = {
        "args": {"which": "build"},
        "elapsed_time": 12.345,
        "results": [{"unique_id": f"n{i}", "status": s} for i, s in enumerate(statuses)],
    }
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    result = run(str(tmp_path / "run_results.json"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "dbt build: 2 built, 2 passed, 1 warned, 1 errored, 1 failed, 1 skipped in 12.3 s "
        "(full log: dbt/logs/dbt.log)"
    )


def test_missing_results_name_the_file_and_the_fix(tmp_path: Path) -> None:
    result = run(str(tmp_path / "absent.json"))
    assert result.returncode == 1
    assert "absent.json" in result.stderr and "make build" in result.stderr
    assert not result.stdout
