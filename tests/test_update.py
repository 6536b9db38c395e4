"""`copier update` and `copier recopy` carry releases into projects their users have edited.

Two kinds of test:

* across the real release (releases.toml): each named variant is rendered at the last
  release, edited as a user would (a line in a file the release changes, a file it does
  not change, a deleted file, a file of the user's own, a file a migration moves) and
  updated to HEAD, the work tree. Every edit is kept, nothing conflicts, each move is a
  staged rename named once;
* fixture releases made on a snapshot of the work tree, for what the real release does
  not hold: a conflict in a moved file (inline and .rej), a component removed, a file
  the template deletes, recopy, a template given by a relative path.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from catalog import named_variants
from copier import run_copy, run_recopy, run_update
from migrations import RENAMES, Ref, due, version_notice
from packaging.version import Version
from releases import releases, template_with_releases
from rendering import HOSTILE, PROJECT_NAME, ROOT, git, render, snapshot, tree_bytes

MARKER = re.compile(r"^(<<<<<<< |>>>>>>> )", re.MULTILINE)
PREFIX = "copier-data-prototype: "
TEAM_LINE = "# Team: run `make demo` before every pull request."
DELETED = "dbt/tests/assert_each_live_order_is_paid_in_full.sql"


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def commit_all(project: Path, message: str) -> None:
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", message, cwd=project)


def render_committed(template: Path, dst: Path, components, ref: str, **answers) -> Path:
    project = render(template, dst, components, ref=ref, **answers)
    git("init", "-q", "-b", "main", cwd=project)
    commit_all(project, "Render from the template")
    return project


def update(project: Path, ref: str = "HEAD", **options: object) -> None:
    run_update(
        str(project),
        data=options.pop("data", {}),
        defaults=True,
        overwrite=True,
        unsafe=True,
        vcs_ref=ref,
        quiet=True,
        **options,
    )


def migration_lines(output: str) -> list[str]:
    return [line[len(PREFIX) :] for line in output.splitlines() if line.startswith(PREFIX)]


def files_with_markers(project: Path) -> list[str]:
    return sorted(
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.parts and MARKER.search(path.read_text("utf-8"))
    )


def status(project: Path) -> list[str]:
    return git("status", "--porcelain", cwd=project).splitlines()


def append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + line + "\n")


# ---------------------------------------------------------------------------
# Across the real release
# ---------------------------------------------------------------------------
#: (old path, new path) of the moves each variant's user edits: one in every variant.
MOVED_EDITS = {
    "tests/integration/test_pipeline.py": "tests/data_quality/test_pipeline.py",
    "grafana/provisioning/alerting/contact_points.yml": "grafana/alerting/contact_points.yml",
}


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return template_with_releases(tmp_path_factory.mktemp("released") / "template")


def edit_as_a_user(project: Path) -> dict[str, str]:
    """The fixed set of edits; returns {path after the update: the line it must hold}."""
    expect = {}
    append(project / "Makefile", TEAM_LINE)  # a file the release changes
    expect["Makefile"] = TEAM_LINE
    model = project / "dbt" / "models" / "staging" / "stg_orders.sql"
    append(model, "-- Team: the orders feed lands at 06:00 UTC.")  # a file it does not change
    expect["dbt/models/staging/stg_orders.sql"] = "-- Team: the orders feed lands at 06:00 UTC."
    (project / DELETED).unlink()  # a deleted file: a data test the team does not want
    (project / "docs" / "team_notes.md").write_text("# Team notes\n\nOur runbook.\n")  # our own
    expect["docs/team_notes.md"] = "Our runbook."
    for old, new in MOVED_EDITS.items():  # files a migration moves
        if (project / old).is_file():
            line = f"# Team: {Path(old).name} checked by us."
            # Two blank lines before it in Python, as ruff format wants (core boots this).
            append(project / old, f"\n\n{line}" if old.endswith(".py") else line)
            expect[new] = line
    commit_all(project, "Our edits")
    return expect


@pytest.mark.parametrize("variant", list(named_variants()))
def test_update_across_the_release_keeps_every_edit(
    released: Path, tmp_path: Path, variant: str, capfd: pytest.CaptureFixture[str]
) -> None:
    last = releases()[-1]
    project = render_committed(released, tmp_path / variant, named_variants()[variant], last.tag)
    expect = edit_as_a_user(project)
    capfd.readouterr()

    update(project)

    output = migration_lines(capfd.readouterr().out)
    assert not files_with_markers(project), f"conflicts, though no edit overlaps: {output}"
    for path, line in expect.items():
        assert (project / path).is_file(), f"{path} is gone after the update"
        assert line in (project / path).read_text(), f"the edit of {path} is lost"
    assert not (project / DELETED).exists(), "the user's deletion was undone"
    lines = status(project)
    for old, new in MOVED_EDITS.items():
        if new in expect:
            assert not (project / old).exists(), f"{old} is still there after its move"
            assert f"R  {old} -> {new}" in lines, f"git does not record {old} as moved: {lines}"
            notices = [line for line in output if line.startswith(f"moved {old} -> ")]
            assert len(notices) == 1, f"the move of {old} is named {len(notices)} times"
    assert output[-1] == "no conflicts", output
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] != last.tag


@pytest.mark.parametrize("variant", ["core", "full"])
def test_an_unedited_project_updates_to_exactly_a_fresh_render(
    released: Path, tmp_path: Path, variant: str
) -> None:
    """Updated from the last release, a project nobody edited is byte for byte what
    `copier copy` renders at HEAD. test_boot.py boots full's fresh render and core's
    update of an edited project."""
    components = named_variants()[variant]
    # full with the answers its boot renders with, so the boot covers this update too.
    answers = HOSTILE if variant == "full" else {}
    project = render_committed(
        released, tmp_path / "updated", components, releases()[-1].tag, **answers
    )
    update(project)
    fresh = render(released, tmp_path / "fresh", components, **answers)
    updated, expected = tree_bytes(project), tree_bytes(fresh)
    assert sorted(updated.keys() - expected.keys()) == [], "left over by the update"
    assert sorted(expected.keys() - updated.keys()) == [], "missing after the update"
    differ = sorted(path for path in expected if updated[path] != expected[path])
    assert differ == [], f"the update and a fresh render differ in {differ}"


# ---------------------------------------------------------------------------
# Fixture releases
# ---------------------------------------------------------------------------
FIXTURE_LINE = "Fixture release: a line of the template."


def next_release(template: Path) -> str:
    newest = max([Version(v) for v in RENAMES] + [Version(r.version) for r in releases()])
    return f"{newest.major}.{newest.minor + 1}.0"


def release(template: Path, *, moves=(), deletes=(), edits=()) -> str:
    """Commit and tag a fixture release: moved, deleted and edited template files."""
    version = next_release(template)
    for path, old, new in edits:
        target = template / "template" / path
        target.write_text(target.read_text().replace(old, new, 1))
    renames = []
    for old, new in moves:
        git("mv", f"template/{old}", f"template/{new}", cwd=template)
        renames.append((old.removesuffix(".jinja"), new.removesuffix(".jinja")))
    for path in deletes:
        git("rm", "-q", f"template/{path}", cwd=template)
    if renames:
        migrations = template / "extensions" / "migrations.py"
        text = migrations.read_text()
        anchor = "RENAMES: dict[str, list[tuple[str, str]]] = {\n"
        assert anchor in text
        migrations.write_text(text.replace(anchor, f"{anchor}    {version!r}: {renames!r},\n", 1))
    commit_all(template, f"Fixture release {version}")
    git("tag", "-a", "-m", version, f"v{version}", cwd=template)
    return f"v{version}"


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return snapshot(tmp_path / "template")


def current(template: Path) -> str:
    return f"v{(template / 'VERSION').read_text().strip()}"


def test_a_conflict_in_a_moved_file_is_visible(
    template: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = render_committed(template, tmp_path / "p", [], current(template))
    readme = project / "docs" / "README.md"
    first = readme.read_text().splitlines()[0]
    readme.write_text(readme.read_text().replace(first, "# Our documentation", 1))
    commit_all(project, "Our title")
    new = release(
        template,
        edits=[("docs/README.md.jinja", first, "# The documentation")],
        moves=[("docs/README.md.jinja", "docs/index.md.jinja")],
    )
    capfd.readouterr()

    update(project, new)

    output = migration_lines(capfd.readouterr().out)
    assert files_with_markers(project) == ["docs/index.md"]
    assert "docs/index.md" in git("grep", "-l", "<<<<<<< before updating", cwd=project)
    assert any(line.endswith("docs/index.md") for line in status(project)), status(project)
    assert "  docs/index.md (conflict markers)" in output
    assert not (project / "docs" / "README.md").exists()


def test_with_conflict_rej_a_moved_file_gets_one_rej_and_keeps_its_clean_hunks(
    template: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = render_committed(template, tmp_path / "p", [], current(template))
    readme = project / "docs" / "README.md"
    text = readme.read_text()
    first = text.splitlines()[0]
    readme.write_text(text.replace(first, "# Our documentation", 1) + "Our last line.\n")
    commit_all(project, "Our title and line")
    new = release(
        template,
        edits=[("docs/README.md.jinja", first, "# The documentation")],
        moves=[("docs/README.md.jinja", "docs/index.md.jinja")],
    )
    capfd.readouterr()

    update(project, new, conflict="rej")

    output = migration_lines(capfd.readouterr().out)
    assert (project / "docs" / "index.md.rej").is_file()
    assert "# Our documentation" in (project / "docs" / "index.md.rej").read_text()
    assert not (project / "docs" / "README.md.rej").exists(), "a second .rej for the old path"
    assert "# The documentation" in (project / "docs" / "index.md").read_text()
    assert not files_with_markers(project)
    assert any(line.startswith("  docs/index.md.rej") for line in output), output
    assert any("docs/index.md.rej" in line for line in status(project)), status(project)


def test_removing_a_component_keeps_what_the_user_changed(
    template: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = render_committed(template, tmp_path / "p", ["snowflake", "qlik"], "HEAD")
    append(project / "qlik" / "README.md", "Our Replicate server is qlik-01.")
    (project / "tests" / "qlik" / "test_ours.py").write_text("def test_ours() -> None:\n    pass\n")
    commit_all(project, "Our notes and test")
    capfd.readouterr()

    update(project, "HEAD", data={"components": ["snowflake"]})

    output = migration_lines(capfd.readouterr().out)
    assert "qlik-01" in (project / "qlik" / "README.md").read_text()
    assert (project / "tests" / "qlik" / "test_ours.py").is_file()
    assert not (project / "qlik" / "replication_tasks").exists(), "unchanged qlik files stay"
    kept = "  to delete them: git rm -- 'qlik/README.md' 'tests/qlik/test_ours.py'"
    assert kept in output, output
    assert any(line.startswith("removed ") and "qlik" in line for line in output), output


def test_a_file_the_template_deletes_is_kept_when_edited(
    template: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    project = render_committed(template, tmp_path / "p", ["snowflake"], current(template))
    append(project / "scripts" / "README.md", "Our scripts live in bin/ too.")
    commit_all(project, "Our scripts note")
    new = release(template, deletes=["scripts/README.md", "snowflake/README.md.jinja"])
    capfd.readouterr()

    update(project, new)

    output = migration_lines(capfd.readouterr().out)
    assert "bin/ too" in (project / "scripts" / "README.md").read_text()
    assert not (project / "snowflake" / "README.md").exists()
    assert "  scripts/README.md: you changed it, and the template no longer renders it" in output
    assert any(line.startswith("removed 1 file(s)") for line in output), output


def test_recopy_keeps_edits_and_deletions_and_leaves_no_duplicate(
    template: Path, tmp_path: Path
) -> None:
    project = render_committed(template, tmp_path / "p", [], current(template))
    append(project / "README.md", "Our notes.")
    money = project / "dbt" / "macros" / "money.sql"
    (project / "dbt" / "macros" / "currency.sql").write_text(money.read_text())
    money.unlink()
    append(project / "docs" / "README.md", "Our docs line.")
    commit_all(project, "Money macro renamed, notes")
    new = release(template, moves=[("docs/README.md.jinja", "docs/index.md.jinja")])

    run_recopy(str(project), defaults=True, overwrite=True, unsafe=True, quiet=True, vcs_ref=new)

    assert "Our notes." in (project / "README.md").read_text()
    assert not money.exists(), "recopy brought back a file the user deleted"
    macros = "".join(p.read_text() for p in (project / "dbt" / "macros").glob("*.sql"))
    assert macros.count("macro money(") == 1
    assert not (project / "docs" / "README.md").exists(), "the moved file is there twice"
    assert "Our docs line." in (project / "docs" / "index.md").read_text()


def test_a_project_copied_from_a_relative_path_updates(
    template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = template.parent
    monkeypatch.chdir(work)
    run_copy(
        template.name,
        str(work / "project"),
        data={"project_name": PROJECT_NAME, "components": []},
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )  # copier copy run from the template's parent folder, with a relative path
    project = work / "project"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(template), "a relative template path is recorded"
    git("init", "-q", "-b", "main", cwd=project)
    commit_all(project, "Render")
    new = release(template, edits=[("README.md.jinja", "## Components", "## The components")])
    result = subprocess.run(
        [sys.executable, "-m", "copier", "update", "--trust", "--defaults", "--vcs-ref", new],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "## The components" in (project / "README.md").read_text()


# ---------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------


def test_versions_are_read_with_packaging() -> None:
    assert Ref.parse("v0.2.0") == Ref("v0.2.0", Version("0.2.0"), True)
    assert Ref.parse("v0.1.0-5-g7d9794a").release == Version("0.1.0")
    assert not Ref.parse("0.1.0.post5.dev0+7d9794a").exact
    for not_a_version in ("1234567", "d0db2b1", "main", "", None):
        assert Ref.parse(not_a_version).release is None, not_a_version


def test_due_renames_follow_the_releases() -> None:
    renames = {"0.2.0": [("a", "b")], "0.3.0": [("b", "c")], "0.10.0": [("c", "d")]}
    assert list(due(renames, "v0.1.0", "v0.3.0")) == [("a", "b"), ("b", "c")]
    assert list(due(renames, "v0.2.0", "v0.10.0")) == [("b", "c"), ("c", "d")]
    assert list(due(renames, "v0.3.0", "v0.3.0")) == []
    # From or to an untagged commit: the renames after the release it descends from.
    assert list(due(renames, "v0.2.0-4-gabc1234", "v0.10.0")) == [("b", "c"), ("c", "d")]
    assert list(due(renames, "v0.3.0", "v0.3.0-2-gdef5678")) == [("c", "d")]
    assert list(due(renames, "1234567", "v0.2.0")) == [("a", "b")], "a commit id is no version"


def test_an_untagged_update_says_what_it_did() -> None:
    assert version_notice("v0.1.0", "v0.2.0") is None
    notice = version_notice("v0.1.0", "v0.1.0-5-g7d9794a")
    assert notice and "untagged commit after release 0.1.0" in notice
    assert "renames of every release after 0.1.0" in notice


def test_renames_name_paths_the_template_renders() -> None:
    """Every new path of a rename is a path the template renders now."""
    names = {
        p.relative_to(ROOT / "template").as_posix().removesuffix(".jinja")
        for p in (ROOT / "template").rglob("*")
    }
    for version, moves in RENAMES.items():
        Version(version)
        for _, new in moves:
            assert new in names, f"RENAMES {version}: {new} is not under template/"
