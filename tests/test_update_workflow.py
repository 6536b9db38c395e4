"""The rendered template-update workflow runs the copier this template is tested with.

Rendered repositories update themselves with `.github/workflows/template-update.yml`
(github_actions), which pins copier and copier-template-extensions by hand. A pin that
drifts from the template's own (pyproject.toml) would update prototypes with a copier
release the template's tests never ran.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = next(ROOT.glob("template/*.github*/workflows/template-update.yml.jinja"))
PACKAGES = ("copier", "copier-template-extensions")


def template_pins(pyproject: str) -> dict[str, str]:
    """copier's and the extension loader's pins in the template's dev group."""
    dev = tomllib.loads(pyproject)["dependency-groups"]["dev"]
    pins = dict(pin.split("==", 1) for pin in dev if "==" in pin)
    return {name: pins[name] for name in PACKAGES if name in pins}


def workflow_pins(workflow: str) -> dict[str, str]:
    """The `name==version` pins the workflow's env block installs."""
    found = re.findall(r"^\s+[A-Z_]+: ([a-z-]+)==([0-9][^\s]*)$", workflow, re.MULTILINE)
    return {name: version for name, version in found if name in PACKAGES}


def test_the_update_workflow_pins_the_templates_copier() -> None:
    ours = template_pins((ROOT / "pyproject.toml").read_text())
    assert set(ours) == set(PACKAGES), f"pyproject.toml pins {ours}"
    assert workflow_pins(WORKFLOW.read_text()) == ours, (
        f"{WORKFLOW.relative_to(ROOT)} and pyproject.toml pin other copier releases: "
        "set COPIER and COPIER_EXTENSIONS to the template's pins"
    )


def test_a_moved_pin_is_noticed() -> None:
    text = WORKFLOW.read_text()
    ours = template_pins((ROOT / "pyproject.toml").read_text())
    moved = text.replace(f"copier=={ours['copier']}", "copier==9.0.0")
    assert workflow_pins(moved) != ours
