"""The controls matrix of security/compliance/ points at evidence that exists.

controls.yml is well formed, every path it references exists (a ``path::name`` defines
``name``), every ``make <target>`` is a rule of the Makefile, and README.md shows the table
controls.py generates. Broken copies show that a missing reference fails, naming the control.
"""

from __future__ import annotations

import copy
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

COMPLIANCE = Path("security") / "compliance"


@pytest.fixture(scope="module")
def controls_module(root: Path) -> ModuleType:
    path = root / COMPLIANCE / "controls.py"
    spec = importlib.util.spec_from_file_location("compliance_controls", path)
    assert spec and spec.loader, f"{path} is missing"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def controls(controls_module: ModuleType, root: Path) -> list[dict[str, Any]]:
    return controls_module.load(root / COMPLIANCE / "controls.yml")


def test_every_control_is_well_formed(controls: list[dict[str, Any]]) -> None:
    # load() raises ControlsError, listing each problem, on a malformed file.
    ids = [control["id"] for control in controls]
    assert len(ids) == len(set(ids)) >= 5
    assert {"CLS-01", "SEC-01", "CHG-01"} <= set(ids)


def test_every_reference_exists(
    controls_module: ModuleType, controls: list[dict[str, Any]], root: Path
) -> None:
    broken = controls_module.broken_references(controls, root)
    assert not broken, "controls.yml references what does not exist:\n" + "\n".join(broken)


def test_the_readme_shows_the_matrix(
    controls_module: ModuleType, controls: list[dict[str, Any]], root: Path
) -> None:
    shown = controls_module.readme_table(root / COMPLIANCE / "README.md")
    assert shown == controls_module.table(controls), (
        "security/compliance/README.md does not show the table of controls.yml: run "
        "`python security/compliance/controls.py --write`"
    )


def test_a_missing_reference_fails_naming_the_control(
    controls_module: ModuleType, controls: list[dict[str, Any]], root: Path
) -> None:
    broken = copy.deepcopy(controls)
    first, last = broken[0], broken[-1]
    first["implemented_by"].append("security/no_such_check.py")
    last["implemented_by"] += ["make no-such-target", "tests/conftest.py::no_such_test"]
    already = set(controls_module.broken_references(controls, root))  # test_every_reference_exists
    new = [m for m in controls_module.broken_references(broken, root) if m not in already]
    assert new == [
        f"{first['id']} ({first['title']}): security/no_such_check.py does not exist",
        f"{last['id']} ({last['title']}): `make no-such-target`: no such target in the Makefile",
        f"{last['id']} ({last['title']}): tests/conftest.py defines no no_such_test",
    ]
    assert controls_module.missing("tests/conftest.py::require", root, set()) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "cls1"}, "id must look like ABC-01"),
        ({"frameworks": {"hipaa": ["164.312"]}}, "unknown framework 'hipaa'"),
        (
            {"frameworks": {"gdpr": ["Article 32"]}},
            "GDPR reference 'Article 32' is not of the form",
        ),
        ({"frameworks": {"soc2": ["CC 6.1"]}}, "SOC 2 reference 'CC 6.1' is not of the form"),
        ({"implemented_by": []}, "`implemented_by` must list at least one reference"),
    ],
)
def test_a_malformed_control_is_rejected(
    controls_module: ModuleType, root: Path, tmp_path: Path, change: dict, message: str
) -> None:
    import yaml

    document = yaml.safe_load((root / COMPLIANCE / "controls.yml").read_text())
    document["controls"][0].update(change)
    path = tmp_path / "controls.yml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(controls_module.ControlsError, match=re.escape(message)):
        controls_module.load(path)


def test_the_command_line_check(root: Path, tmp_path: Path) -> None:
    script = [sys.executable, str(COMPLIANCE / "controls.py"), "--check"]
    result = subprocess.run(script, cwd=root, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    # A copy of the repository without one referenced file: exit 1, naming the control.
    copy_root = tmp_path / "copy"
    shutil.copytree(root / COMPLIANCE, copy_root / COMPLIANCE)
    shutil.copyfile(root / "Makefile", copy_root / "Makefile")
    result = subprocess.run(script, cwd=copy_root, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    expected = "CLS-01 (Every column is classified): security/data_classification/policy.yml"
    assert f"{expected} does not exist" in result.stderr


# The compliance item of `make migration-check` reads what the controls above promise from
# the dbt catalog itself: masking (MSK-01), audit logging (AUD-01) and owners (ROP-01).


def content_checks(root: Path, project_root: Path, work: Path) -> dict[str, Any]:
    from test_data_classification import dbt_parse

    sys.path.insert(0, str(root / "scripts" / "migration"))
    import compliance
    from repository import answers

    dbt_parse(project_root / "dbt", work / "target", work)
    components = answers(root)["components"]
    add = "copier update (adds {})".format
    return compliance.checks(project_root, components, add, work / "target" / "manifest.json")


def test_the_catalog_masks_or_waives_every_pii_column_and_audits_its_schemas(
    root: Path, tmp_path: Path
) -> None:
    found = content_checks(root, root, tmp_path)
    assert found["mart owners"].status == "passed", found
    masking = found["pii masking"]
    assert masking.status == "passed" and masking.why.endswith(" waived"), masking
    audit = found["audit logging"]
    if (root / "snowflake").is_dir():
        assert audit.status == "passed" and " raw, " in audit.why, audit
    else:  # no account setup to grant the audit model ACCESS_HISTORY
        assert (audit.status, audit.command) == ("not checked", "copier update (adds snowflake)")


def test_a_pii_column_neither_masked_nor_waived_fails(root: Path, tmp_path: Path) -> None:
    shutil.copytree(
        root / "dbt",
        tmp_path / "copy" / "dbt",
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    sources = tmp_path / "copy" / "dbt" / "models" / "staging" / "_sources.yml"
    text = sources.read_text()
    assert "masking_waiver:" in text
    sources.write_text(text.replace("masking_waiver:", "reviewed_because:"))
    masking = content_checks(root, tmp_path / "copy", tmp_path)["pii masking"]
    assert masking.status == "failed", masking
    assert "raw.customers.email (a source gets no masking policy)" in masking.why, masking
