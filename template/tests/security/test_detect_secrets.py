"""detect-secrets finds no secret in the files git would commit, beyond .secrets.baseline.

``.secrets.baseline`` is detect-secrets' configuration as much as its record: the plugins,
the filters (files never scanned, fake values the tests use) and the findings audited as
false positives (none: a finding is fixed, not recorded). The pre-commit hook
``detect-secrets-hook --baseline .secrets.baseline`` runs on every commit and in `make lint`;
these tests run the same hook over every file git would commit (the list of
tests/unit/test_no_secrets.py), on a copy of the baseline, since the hook rewrites a
baseline it finds out of date. A fake secret planted in a copy of the repository is found,
and the filters let through only what they name.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import require
from test_no_secrets import FAKE_AWS_ID, FAKE_PEM, FAKE_PHRASE, committed_files

BASELINE = ".secrets.baseline"
LOCATION = re.compile(r"^Location:\s+(\S+)$", re.MULTILINE)


def hook() -> str:
    found = shutil.which("detect-secrets-hook", path=str(Path(sys.executable).parent))
    require(
        found is not None and importlib.util.find_spec("detect_secrets") is not None,
        "detect-secrets",
    )
    return str(found)


def run_hook(root: Path, baseline: Path) -> tuple[int, set[str]]:
    """Run the pre-commit hook on the files git would commit; its exit status and findings."""
    files = [path.relative_to(root).as_posix() for path in committed_files(root)]
    result = subprocess.run(
        [hook(), "--baseline", str(baseline), *files],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode, set(LOCATION.findall(result.stdout))


def test_the_baseline_is_current_and_records_no_finding(root: Path) -> None:
    hook()
    from detect_secrets.__version__ import VERSION

    baseline = json.loads((root / BASELINE).read_text())
    assert baseline["results"] == {}, (
        "fix the findings instead of recording them: move the value to .env and reference it"
    )
    assert baseline["version"] == VERSION, (
        f"{BASELINE} is from detect-secrets {baseline['version']}, the hook runs "
        f"{VERSION}: update it with `.venv/bin/detect-secrets scan --baseline {BASELINE}`"
    )
    filters = {f["path"].rsplit(".", 1)[-1]: f.get("pattern") for f in baseline["filters_used"]}
    assert any(re.search(pattern, "uv.lock") for pattern in filters["should_exclude_file"])


def test_no_committed_file_holds_a_secret(root: Path, tmp_path: Path) -> None:
    baseline = tmp_path / BASELINE
    shutil.copyfile(root / BASELINE, baseline)
    status, findings = run_hook(root, baseline)
    assert (status, findings) == (0, set()), (
        f"detect-secrets found possible secrets: {sorted(findings)}. Move real ones to .env "
        "(gitignored); for a fake value in a test, build it at run time"
    )


def test_a_secret_planted_in_a_copy_is_found(root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    for path in committed_files(root):
        target = copy / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    plants = {
        "config/warehouse.yml": f"snowflake:\n  user: loader\n  password: {FAKE_PHRASE}\n",
        "keys/loader_key.txt": FAKE_PEM + "\n",
        "notes.md": f"# Upload\nAWS key id {FAKE_AWS_ID}\n",
        # Neither of these is reported: uv.lock is excluded, not-a-secret is the tests' fake.
        "uv.lock": f"password = '{FAKE_PHRASE}'\n",
        "config/fixture.yml": "password: not-a-secret\n",
    }
    for relative, content in plants.items():
        (copy / relative).parent.mkdir(parents=True, exist_ok=True)
        (copy / relative).write_text(content)
    status, findings = run_hook(copy, copy / BASELINE)
    assert status == 1
    assert findings == {"config/warehouse.yml:3", "keys/loader_key.txt:1", "notes.md:2"}


def test_the_allowed_fake_values_are_exact(root: Path, tmp_path: Path) -> None:
    near_misses = ["not-a-secret-either", "postgres2", "hunter22"]
    for number, value in enumerate(near_misses):
        (tmp_path / f"settings_{number}.yml").write_text(f"password: {value}\n")
    shutil.copyfile(root / BASELINE, tmp_path / BASELINE)
    status, findings = run_hook(tmp_path, tmp_path / BASELINE)
    assert findings == {f"settings_{number}.yml:1" for number in range(len(near_misses))}
