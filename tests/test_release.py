"""`make release VERSION=x.y.z` (scripts/release.py) on a scratch clone of the template.

Each refusal names its problem and leaves the clone as it was: the same commit, tags,
status and files. A good run (`--skip-tests`: no test runs the whole suite again)
commits the release, tags it, and records the tagged commit in releases.toml the way
tests/releases.py rebuilds tags from it. No test renders the template.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from releases import releases, template_with_releases
from rendering import GIT_ENV, git

RELEASE_FILES = ("VERSION", "CHANGELOG.md", "releases.toml", "tests/render_changes.toml")
SENTENCE = "What `main` holds beyond the last release; the next release takes this section."
DATE = "2026-12-24"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template with its releases tagged and the work tree committed on main."""
    return template_with_releases(tmp_path_factory.mktemp("base") / "repo")


@pytest.fixture
def clone(base: Path, tmp_path: Path) -> Path:
    git("clone", "--quiet", str(base), str(tmp_path / "repo"), cwd=tmp_path)
    return tmp_path / "repo"


def run_release(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(clone / "scripts" / "release.py"), "--skip-tests", *args],
        cwd=clone,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )


def state(clone: Path) -> dict[str, object]:
    return {
        "head": git("rev-parse", "HEAD", cwd=clone),
        "tags": git("tag", "--list", cwd=clone),
        "status": git("status", "--porcelain", cwd=clone),
        **{name: (clone / name).read_bytes() for name in RELEASE_FILES},
    }


def commit_file(clone: Path, name: str, text: str) -> None:
    (clone / name).write_text(text, encoding="utf-8")
    git("commit", "--quiet", "-am", f"Edit {name}", cwd=clone)


def empty_unreleased(clone: Path) -> None:
    changelog = (clone / "CHANGELOG.md").read_text(encoding="utf-8")
    start = changelog.index("## Unreleased")
    end = changelog.index("\n## ", start) + 1
    text = changelog[:start] + f"## Unreleased\n\n{SENTENCE}\n\n" + changelog[end:]
    commit_file(clone, "CHANGELOG.md", text)


def refuses(clone: Path, version: str, *message: str) -> None:
    before = state(clone)
    result = run_release(clone, version)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("release refused: "), result.stderr
    for part in message:
        assert part in lines[0], lines[0]
    assert state(clone) == before, "a refused release changed the clone"


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("", "no version given"),
        ("0.2", "VERSION=0.2 is not a plain release x.y.z"),
        ("v0.2.0", "VERSION=v0.2.0 is not a plain release x.y.z"),
        ("0.2.0rc1", "VERSION=0.2.0rc1 is not a plain release x.y.z"),
        ("0.2.0+local", "VERSION=0.2.0+local is not a plain release x.y.z"),
        ("latest", "VERSION=latest is not a version"),
    ],
)
def test_a_bad_version_is_refused(clone: Path, version: str, message: str) -> None:
    refuses(clone, version, message, "give three numbers")


def test_a_version_not_above_the_last_release_is_refused(clone: Path) -> None:
    last = releases(clone / "releases.toml")[-1].version
    refuses(clone, "0.0.9", f"0.0.9 is not above the last release {last} of releases.toml")


def test_a_version_not_above_a_tag_is_refused(clone: Path) -> None:
    git("tag", "-a", "-m", "a tag without a row", "v0.5.0", cwd=clone)
    refuses(clone, "0.3.0", "0.3.0 is not above the tag v0.5.0")


def test_an_existing_tag_is_refused(clone: Path) -> None:
    git("tag", "-a", "-m", "made by hand", "v0.2.0", cwd=clone)
    refuses(clone, "0.2.0", "the tag v0.2.0 exists already", "git tag -d v0.2.0")


def test_a_dirty_work_tree_is_refused(clone: Path) -> None:
    (clone / "README.md").write_text("edited\n", encoding="utf-8")
    refuses(clone, "0.2.0", "the work tree is not clean", "README.md", "commit or stash")
    git("checkout", "--", "README.md", cwd=clone)
    (clone / "notes.txt").write_text("untracked\n", encoding="utf-8")
    refuses(clone, "0.2.0", "the work tree is not clean", "notes.txt")


def test_a_detached_head_is_refused(clone: Path) -> None:
    git("switch", "--quiet", "--detach", "HEAD", cwd=clone)
    refuses(clone, "0.2.0", "HEAD is detached", "git switch main")


def test_an_empty_unreleased_section_is_refused(clone: Path) -> None:
    empty_unreleased(clone)
    refuses(clone, "0.2.0", "CHANGELOG.md's '## Unreleased' section is empty")


def test_a_changelog_without_unreleased_is_refused(clone: Path) -> None:
    changelog = (clone / "CHANGELOG.md").read_text(encoding="utf-8")
    commit_file(clone, "CHANGELOG.md", changelog.replace("## Unreleased", "## Next", 1))
    refuses(clone, "0.2.0", "CHANGELOG.md has no '## Unreleased' section")


def test_a_rename_of_a_later_release_is_refused(clone: Path) -> None:
    migrations = (clone / "extensions" / "migrations.py").read_text(encoding="utf-8")
    anchor = "RENAMES: dict[str, list[tuple[str, str]]] = {\n"
    later = f"{anchor}    '0.9.0': [('a.txt', 'b.txt')],\n"
    commit_file(clone, "extensions/migrations.py", migrations.replace(anchor, later, 1))
    refuses(clone, "0.2.0", "RENAMES of extensions/migrations.py lists renames for 0.9.0")


def test_a_failed_commit_puts_everything_back(clone: Path) -> None:
    """The second commit fails (a hook): the first is undone, no tag, the files as they were."""
    hook = clone / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\n! git diff --cached --name-only | grep -q releases.toml\n")
    hook.chmod(0o755)
    refuses(clone, "0.2.0", "the release commit failed", "nothing was changed")


def test_a_release_commits_tags_and_records_it(clone: Path) -> None:
    start = git("rev-parse", "HEAD", cwd=clone).strip()
    changelog = (clone / "CHANGELOG.md").read_text(encoding="utf-8")
    taken = changelog[changelog.index(SENTENCE) + len(SENTENCE) : changelog.index("\n## 0.1.0")]

    result = run_release(clone, "0.2.0", "--date", DATE)

    assert result.returncode == 0, result.stderr
    assert "released 0.2.0: tag v0.2.0" in result.stdout
    assert git("status", "--porcelain", cwd=clone) == ""
    tagged = git("rev-parse", "v0.2.0^{commit}", cwd=clone).strip()
    assert git("cat-file", "-t", "v0.2.0", cwd=clone).strip() == "tag", "not an annotated tag"
    assert git("rev-parse", f"{tagged}^", cwd=clone).strip() == start
    assert git("rev-parse", "HEAD^", cwd=clone).strip() == tagged
    assert git("log", "-1", "--format=%s", tagged, cwd=clone).strip() == "Release 0.2.0"

    # The tagged commit: VERSION and the dated section under a fresh, empty Unreleased.
    assert git("show", f"{tagged}:VERSION", cwd=clone) == "0.2.0\n"
    dated = git("show", f"{tagged}:CHANGELOG.md", cwd=clone)
    assert (
        f"## Unreleased\n\n{SENTENCE}\n\n## 0.2.0 ({DATE})\n\n{taken.strip()}\n\n## 0.1.0" in dated
    )
    assert re.findall(r"^## Unreleased$", dated, re.M) == ["## Unreleased"]
    assert (clone / "CHANGELOG.md").read_text(encoding="utf-8") == dated

    # The next commit: the row names the tagged commit, the allow-list is empty.
    row = releases(clone / "releases.toml")[-1]
    assert (row.version, row.commit, row.date, row.tag) == ("0.2.0", tagged, DATE, "v0.2.0")
    assert [r.version for r in releases(clone / "releases.toml")][:-1] == [
        r.version for r in releases()
    ]
    allow_list = (clone / "tests" / "render_changes.toml").read_text(encoding="utf-8")
    assert tomllib.loads(allow_list) == {}
    assert allow_list.startswith("# Deliberate changes to what the template renders")
    assert "A release empties" in allow_list
    assert git("diff", "--name-only", tagged, "HEAD", cwd=clone).split() == [
        "releases.toml",
        "tests/render_changes.toml",
    ]

    # tests/releases.py rebuilds the very tag from the row.
    rebuilt = template_with_releases(clone.parent / "rebuilt", root=clone)
    assert git("rev-parse", "v0.2.0^{commit}", cwd=rebuilt).strip() == tagged

    # The next release of the same version is refused by its tag and its row.
    refuses(clone, "0.2.0", "the tag v0.2.0 exists already")
