"""Every LookML file of looker/ parses: lkml for *.lkml, YAML for *.dashboard.lookml."""

from __future__ import annotations

import shutil
from pathlib import Path

import lkml
import pytest
import yaml
from lookml_project import dashboard_files, lookml_files, parse_all


def test_every_lookml_file_parses(root: Path) -> None:
    folder = root / "looker"
    parsed = parse_all(folder)
    names = {path.relative_to(folder).parts[0] for path in parsed}
    assert {"views", "explores", "models", "dashboards", "manifest.lkml"} <= names, (
        f"looker/ lacks generated or hand-owned LookML (found {sorted(names)}): run `make looker`"
    )
    assert len(lookml_files(folder)) + len(dashboard_files(folder)) == len(parsed)


def test_a_broken_view_fails_to_parse(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "looker"
    shutil.copytree(root / "looker", folder)
    view = sorted((folder / "views" / "generated").glob("*.view.lkml"))[0]
    view.write_text(view.read_text().rstrip().removesuffix("}"))  # the view's closing brace
    with pytest.raises(SyntaxError):
        parse_all(folder)
    assert lkml.load((root / "looker" / "manifest.lkml").read_text())


def test_a_broken_dashboard_fails_to_parse(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "looker"
    shutil.copytree(root / "looker", folder)
    dashboard = dashboard_files(folder)[0]
    dashboard.write_text(dashboard.read_text().replace("  elements:", "  elements: [", 1))
    with pytest.raises(yaml.YAMLError):
        parse_all(folder)
