"""`copier update` carries a new release into a project that its user has edited.

Releases are the commits that changed VERSION. When this repository's history
holds an earlier release, the project is rendered from it; until then (and
always for the migration test) the test builds the earlier and the later
release itself: the current tree, then the current tree plus a fixture change.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from copier import run_copy, run_update
from migrations import due, parse_version
from rendering import ROOT, git, snapshot, work_tree_files

COMPONENTS = ["snowflake", "airflow", "docker", "great_expectations", "github_actions"]
MARKERS = re.compile(r"^(<<<<<<< |>>>>>>> )", re.MULTILINE)
USER_README_LINE = "Team notes: the orders feed lands at 06:00 UTC."
USER_DOCS_LINE = "Our runbook lives in the team wiki."
FIXTURE_MAKEFILE_LINE = "# Fixture release: a line the user never touched."
FIXTURE_README_LINE = "Fixture release: a paragraph added at the end of the README."
FIXTURE_RENAMED_LINE = "Fixture release: a line added to the top of the renamed file."


def bump(version: str) -> str:
    major, minor, *_ = (parse_version(version) or (0, 0)) + (0, 0)
    return f"{major}.{minor + 1}.0"


def render_old(template: Path, ref: str, dst: Path) -> Path:
    run_copy(
        str(template),
        str(dst),
        data={"project_name": "Orders Prototype", "components": COMPONENTS},
        defaults=True,
        unsafe=True,
        vcs_ref=ref,
        quiet=True,
    )
    git("init", "-q", "-b", "main", cwd=dst)
    git("add", "-A", cwd=dst)
    git("commit", "-q", "-m", "Render from the template", cwd=dst)
    return dst


def edit_as_a_user(project: Path) -> None:
    """Edit two rendered files and delete one, then commit, as a user would."""
    readme = project / "README.md"
    lines = readme.read_text().splitlines(keepends=True)
    readme.write_text("".join([lines[0], "\n", USER_README_LINE + "\n", *lines[1:]]))
    docs = project / "docs" / "README.md"
    docs.write_text(docs.read_text() + "\n" + USER_DOCS_LINE + "\n")
    (project / "QUICKSTART.md").unlink()
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "Our own notes; we do not use the quickstart", cwd=project)


def update(project: Path, ref: str) -> None:
    run_update(
        str(project),
        data={},
        defaults=True,
        overwrite=True,
        unsafe=True,
        vcs_ref=ref,
        quiet=True,
    )


def files_with_markers(project: Path) -> list[str]:
    return sorted(
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.parts and MARKERS.search(path.read_text())
    )


def make_fixture_release(template: Path, *, rename: tuple[str, str] | None) -> str:
    """Commit and tag a later release: a change to a file the user does not edit,
    a paragraph added to one the user edits, and optionally a renamed path."""
    version = bump((template / "VERSION").read_text().strip())
    makefile = template / "template" / "Makefile.jinja"
    makefile.write_text(makefile.read_text() + "\n" + FIXTURE_MAKEFILE_LINE + "\n")
    readme = template / "template" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\n" + FIXTURE_README_LINE + "\n")
    if rename:
        old, new = rename
        renamed = template / "template" / old
        lines = renamed.read_text().splitlines(keepends=True)
        renamed.write_text("".join([lines[0], "\n", FIXTURE_RENAMED_LINE + "\n", *lines[1:]]))
        git("mv", f"template/{old}", f"template/{new}", cwd=template)
        migrations = template / "extensions" / "migrations.py"
        old_rendered = old.removesuffix(".jinja")
        new_rendered = new.removesuffix(".jinja")
        text = migrations.read_text().replace(
            "RENAMES: dict[str, list[tuple[str, str]]] = {",
            "RENAMES: dict[str, list[tuple[str, str]]] = {\n"
            f"    {version!r}: [({old_rendered!r}, {new_rendered!r})],",
            1,
        )
        assert version in text, "could not add the rename to extensions/migrations.py"
        migrations.write_text(text)
    (template / "VERSION").write_text(version + "\n")
    git("add", "-A", cwd=template)
    git("commit", "-q", "-m", f"Fixture release {version}", cwd=template)
    git("tag", f"v{version}", cwd=template)
    return f"v{version}"


def history_releases(repo: Path) -> list[tuple[str, str]]:
    """(commit, version) for each commit that set a new VERSION, oldest first."""
    try:
        log = git("log", "--reverse", "--format=%H", "--", "VERSION", cwd=repo).split()
    except subprocess.CalledProcessError:  # no commits yet
        return []
    releases: list[tuple[str, str]] = []
    for commit in log:
        version = git("show", f"{commit}:VERSION", cwd=repo).strip()
        if not releases or releases[-1][1] != version:
            releases.append((commit, version))
    return releases


def template_with_history(dst: Path) -> tuple[Path, str, str] | None:
    """A clone of this repository with its releases tagged and the work tree on
    top, or None while the history holds fewer than two releases."""
    releases = history_releases(ROOT)
    current = (ROOT / "VERSION").read_text().strip()
    earlier = [(commit, version) for commit, version in releases if version != current]
    if not earlier:
        return None
    git("clone", "-q", str(ROOT), str(dst), cwd=ROOT.parent)
    for commit, version in releases:
        git("tag", "-f", f"v{version}", commit, cwd=dst)
    for name in git("ls-files", "-z", cwd=dst).split("\0"):
        if name and not (ROOT / name).exists():
            (dst / name).unlink()
    for name in work_tree_files(ROOT):
        target = dst / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    git("add", "-A", cwd=dst)
    if git("status", "--porcelain", cwd=dst).strip():
        git("commit", "-q", "-m", "Work tree", cwd=dst)
    git("tag", "-f", f"v{current}", cwd=dst)
    return dst, f"v{earlier[-1][1]}", f"v{current}"


@pytest.fixture
def fixture_releases(tmp_path: Path) -> tuple[Path, str, str]:
    template = snapshot(tmp_path / "template")
    old = f"v{(template / 'VERSION').read_text().strip()}"
    new = make_fixture_release(template, rename=None)
    return template, old, new


def test_update_keeps_user_edits(tmp_path: Path, fixture_releases) -> None:
    from_history = template_with_history(tmp_path / "history")
    template, old, new = from_history or fixture_releases
    project = render_old(template, old, tmp_path / "project")
    edit_as_a_user(project)
    edited = {"README.md", "docs/README.md"}

    update(project, new)

    assert not [f for f in files_with_markers(project) if f not in edited], (
        "conflict markers in files the user did not edit"
    )
    readme = (project / "README.md").read_text()
    assert USER_README_LINE in readme
    assert USER_DOCS_LINE in (project / "docs" / "README.md").read_text()
    assert not (project / "QUICKSTART.md").exists(), "the user's deletion was undone"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == new
    if from_history is None:
        assert FIXTURE_README_LINE in readme, "the release's change did not reach the README"
        assert FIXTURE_MAKEFILE_LINE in (project / "Makefile").read_text()
        assert not files_with_markers(project), "the edits and the release do not overlap"


def edited_project_updated_across_a_rename(tmp_path: Path, old_path: str, new_path: str) -> Path:
    """Render the current release, edit it as a user, update to a release that
    renames template/old_path to template/new_path."""
    template = snapshot(tmp_path / "template")
    old = f"v{(template / 'VERSION').read_text().strip()}"
    new = make_fixture_release(template, rename=(old_path, new_path))
    project = render_old(template, old, tmp_path / "project")
    edit_as_a_user(project)  # edits README.md and docs/README.md, deletes QUICKSTART.md
    update(project, new)
    return project


def test_migration_moves_a_renamed_path(tmp_path: Path) -> None:
    project = edited_project_updated_across_a_rename(
        tmp_path, "docs/README.md.jinja", "docs/index.md.jinja"
    )

    assert not (project / "docs" / "README.md").exists()
    moved = (project / "docs" / "index.md").read_text()
    assert USER_DOCS_LINE in moved, "the user's edit did not follow the renamed file"
    assert FIXTURE_RENAMED_LINE in moved, "the release's change to the renamed file is lost"
    assert not files_with_markers(project)
    assert not (project / "QUICKSTART.md").exists()
    assert not (project / ".git" / "copier-data-prototype").exists(), "the stash was left behind"


def test_migration_keeps_an_unedited_renamed_path_fresh(tmp_path: Path) -> None:
    project = edited_project_updated_across_a_rename(
        tmp_path, "dbt/README.md.jinja", "dbt/GUIDE.md.jinja"
    )

    assert not (project / "dbt" / "README.md").exists()
    guide = (project / "dbt" / "GUIDE.md").read_text()
    assert FIXTURE_RENAMED_LINE in guide
    assert not files_with_markers(project)


def test_due_renames_follow_the_versions() -> None:
    renames = {"0.2.0": [("a", "b")], "0.3.0": [("b", "c")], "0.10.0": [("c", "d")]}
    assert list(due(renames, "0.1.0", "0.3.0")) == [("a", "b"), ("b", "c")]
    assert list(due(renames, "v0.2.0", "v0.10.0")) == [("b", "c"), ("c", "d")]
    assert list(due(renames, "0.3.0", "0.3.0")) == []
    assert list(due(renames, None, "0.2.0")) == [("a", "b")]
    assert list(due(renames, "0.1.0.post2.dev0+abc", None)) == list(due(renames, "0.1.0", "9"))


def test_migration_keeps_a_deleted_renamed_path_deleted(tmp_path: Path) -> None:
    project = edited_project_updated_across_a_rename(
        tmp_path, "QUICKSTART.md.jinja", "GETTING_STARTED.md.jinja"
    )

    assert not (project / "QUICKSTART.md").exists()
    assert not (project / "GETTING_STARTED.md").exists(), "a deleted file came back renamed"
    assert USER_README_LINE in (project / "README.md").read_text()
