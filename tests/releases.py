"""The template's real releases, for tests that render or update across them.

``releases.toml`` names the commit of every release. A checkout may lack the
tags (a CI clone of main, say): :func:`template_with_releases` clones this
repository into a scratch folder, tags each release there from the table, and
commits the work tree on top, so ``vcs_ref="v0.1.0"`` renders the release and
``vcs_ref="HEAD"`` renders what is on disk now.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from rendering import ROOT, git, work_tree_files

RELEASES_FILE = ROOT / "releases.toml"


@dataclass(frozen=True)
class Release:
    version: str
    commit: str
    date: str

    @property
    def tag(self) -> str:
        return f"v{self.version}"


def releases(path: Path = RELEASES_FILE) -> list[Release]:
    """The releases of ``releases.toml``, oldest first."""
    table = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Release(**row) for row in table.get("release", [])]


def template_with_releases(dst: Path, root: Path = ROOT) -> Path:
    """A clone of ``root`` at ``dst`` with every release tagged and the work tree as HEAD."""
    git("clone", "-q", "--no-checkout", str(root), str(dst), cwd=root.parent)
    for release in releases(root / "releases.toml"):
        git("tag", "-f", "-a", "-m", f"Release {release.version}", release.tag,
            release.commit, cwd=dst)  # fmt: skip
    git("checkout", "-q", "-B", "main", "origin/HEAD", cwd=dst)
    for name in git("ls-files", "-z", cwd=dst).split("\0"):
        if name and not (root / name).exists():
            (dst / name).unlink()
    for name in work_tree_files(root):
        target = dst / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((root / name).read_bytes())
        target.chmod((root / name).stat().st_mode)
    git("add", "-A", cwd=dst)
    if git("status", "--porcelain", cwd=dst).strip():
        git("commit", "-q", "-m", "Work tree", cwd=dst)
    return dst
