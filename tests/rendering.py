"""Helpers to render the template from a git snapshot of this work tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from collections.abc import Iterable
from pathlib import Path

import yaml
from copier import run_copy

ROOT = Path(__file__).resolve().parent.parent
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}
PROJECT_NAME = "Orders Prototype"

#: Rendered files that are templates of another tool and so are not parsed as
#: plain YAML / JSON / TOML (glob patterns, relative to the rendered repo).
NOT_PARSED: tuple[str, ...] = ("infrastructure/helm/**/templates/**",)


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def work_tree_files(root: Path = ROOT) -> list[str]:
    """Files git tracks in the work tree, plus untracked ones it does not ignore."""
    listed = git("ls-files", "-co", "--exclude-standard", "-z", cwd=root)
    return sorted({name for name in listed.split("\0") if name and (root / name).is_file()})


def snapshot(dst: Path, root: Path = ROOT) -> Path:
    """Copy the work tree into a fresh git repository at dst, committed and tagged."""
    dst.mkdir(parents=True)
    for name in work_tree_files(root):
        target = dst / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
    git("init", "-q", "-b", "main", cwd=dst)
    git("add", "-A", cwd=dst)
    git("commit", "-q", "-m", "template snapshot", cwd=dst)
    version = (dst / "VERSION").read_text().strip()
    git("tag", f"v{version}", cwd=dst)
    return dst


#: Every free-text answer at its awkward edge; the full boot (tests/test_boot.py) renders
#: with these too, so dbt parse, the linters and the tests run on them.
HOSTILE = {
    "project_name": "Orders Prototype 2",
    "description": 'He said "ship it" \\ then: # not a comment {{ x }} & <b>it\'s</b> 100%',
    "owner": "Data Platform.",
    "owner_email": "data.platform+alerts@example.co.uk",
}


def render(
    template: Path, dst: Path, components: Iterable[str], *, ref: str = "HEAD", **answers: object
) -> Path:
    """Render ``template`` at git ref ``ref`` into ``dst`` with the given components."""
    data = {"project_name": PROJECT_NAME, "components": list(components), **answers}
    run_copy(
        str(template),
        str(dst),
        data=data,
        defaults=True,
        unsafe=True,
        vcs_ref=ref,
        quiet=True,
    )
    return dst


def rendered_files(project: Path) -> list[Path]:
    return sorted(
        path for path in project.rglob("*") if path.is_file() and ".git" not in path.parts
    )


def parse_data_file(path: Path) -> object:
    """Parse a YAML / JSON / TOML file; raises on a syntax error."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in {".yml", ".yaml"}:
        return list(yaml.safe_load_all(text))
    if path.suffix == ".json":
        return json.loads(text)
    if path.suffix == ".toml":
        return tomllib.loads(text)
    raise ValueError(f"not a data file: {path}")


def tree_bytes(project: Path) -> dict[str, bytes]:
    return {
        path.relative_to(project).as_posix(): path.read_bytes() for path in rendered_files(project)
    }
