"""Bad answers stop early: each fails with the validator's message and writes nothing."""

from __future__ import annotations

import fnmatch
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from catalog import BY_KEY, named_variants
from copier import run_copy
from rendering import HOSTILE, NOT_PARSED, git, parse_data_file, render, rendered_files, snapshot

GOOD = {"project_name": "Orders Prototype", "components": ["snowflake"]}

#: (case id, answers that differ from GOOD, words the message must contain)
BAD: list[tuple[str, dict[str, object], list[str]]] = [
    ("empty-name", {"project_name": ""}, ["project_name is empty"]),
    ("blank-name", {"project_name": "   "}, ["project_name is empty"]),
    ("name-starts-with-digit", {"project_name": "1orders"}, ["start with a letter"]),
    (
        "name-with-slash",
        {"project_name": "orders/prototype"},
        ["'orders/prototype'", "only letters"],
    ),
    ("unknown-component", {"components": ["snowflake", "spark"]}, ["'spark'", "choose from"]),
    (
        "lowercase-database-prefix",
        {"snowflake_database_prefix": "orders"},
        ["snowflake_database_prefix", "'ORDERS'"],
    ),
    (
        "database-prefix-with-dash",
        {"snowflake_database_prefix": "ORDERS-DB"},
        ["not a plain Snowflake identifier", "'ORDERS_DB'"],
    ),
    ("reserved-role-prefix", {"snowflake_role_prefix": "SELECT"}, ["reserved word"]),
    ("empty-owner", {"owner": ""}, ["owner is empty"]),
    ("bad-email", {"owner_email": "data-platform"}, ["not an e-mail address"]),
    ("unknown-python", {"python_version": "2.7"}, ["'2.7'", "is not in"]),
    ("python-3.10-as-float", {"python_version": 3.1}, ["python_version", "is not in"]),
    # Whole-answer checks: a trailing newline, control characters, surrounding spaces.
    ("name-trailing-newline", {"project_name": "Orders\n"}, ["project_name", "line break"]),
    ("name-tab", {"project_name": "Orders\tX"}, ["project_name", "control character"]),
    ("name-trailing-space", {"project_name": "Orders "}, ["project_name", "spaces"]),
    ("name-too-long", {"project_name": "A" * 41}, ["41 characters", "40 or fewer"]),
    ("name-a-number", {"project_name": 12}, ["project_name '12'", "start with a letter"]),
    ("name-yes", {"project_name": "yes"}, ["project_name 'yes'", "boolean"]),
    ("name-true", {"project_name": "True"}, ["project_name 'True'", "boolean"]),
    ("name-dbt", {"project_name": "dbt"}, ["project_name 'dbt'", "dbt reserves it"]),
    ("name-source", {"project_name": "Source"}, ["dbt reserves it"]),
    ("name-target", {"project_name": "target"}, ["dbt reserves it"]),
    ("name-config", {"project_name": "config"}, ["dbt reserves it"]),
    ("name-ref", {"project_name": "ref"}, ["dbt reserves it"]),
    ("name-python-keyword", {"project_name": "class"}, ["Python keyword"]),
    ("name-stdlib-module", {"project_name": "json"}, ["standard library"]),
    ("name-snowflake-reserved", {"project_name": "Full"}, ["project_name 'Full'", "FULL"]),
    ("owner-trailing-newline", {"owner": "data-platform\n"}, ["owner", "line break"]),
    ("owner-yes", {"owner": "yes"}, ["owner 'yes'", "yes/no word"]),
    ("owner-float", {"owner": "1.5"}, ["owner '1.5'", "start with a letter"]),
    ("owner-too-long", {"owner": "a" * 64}, ["owner is 64 characters"]),
    ("email-yaml-list", {"owner_email": "[a@b.c]"}, ["owner_email '[a@b.c]'"]),
    ("email-yaml-alias", {"owner_email": "*x@y.zz"}, ["owner_email '*x@y.zz'"]),
    ("email-quote", {"owner_email": "a'b@example.com"}, ["not an e-mail address"]),
    ("email-newline", {"owner_email": "a@example.com\n"}, ["owner_email", "line break"]),
    ("description-newline", {"description": "one\ntwo"}, ["description", "line break"]),
    ("description-nul", {"description": "a\x00b"}, ["description", "control character"]),
    ("description-too-long", {"description": "x" * 201}, ["description is 201 characters"]),
    ("description-empty", {"description": ""}, ["description is empty"]),
    ("derived-package-name", {"package_name": "evil"}, ["package_name is derived"]),
    ("derived-project-slug", {"project_slug": "../x"}, ["project_slug is derived"]),
    (
        "derived-deployment-target",
        {"deployment_target": "kubernetes"},
        ["deployment_target is derived"],
    ),
    ("components-string", {"components": "snowflake"}, ["components must be a list"]),
    ("components-number", {"components": 5}, ["components must be a list"]),
    ("components-mapping", {"components": {"snowflake": True}}, ["components must be a list"]),
    (
        "components-repeated",
        {"components": ["snowflake", "snowflake"]},
        ["snowflake listed more than once"],
    ),
]
# One case per missing requirement in the catalog: the component alone, without
# what it requires (requirements of requirements are added, so only the direct
# requirement is missing).
for component in BY_KEY.values():
    for needed in component.requires:
        BAD.append(
            (
                f"{component.key}-without-{needed}",
                {"components": [component.key]},
                [f"{component.key} requires {needed}", f"add {needed}"],
            )
        )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(tmp_path_factory.mktemp("template") / "repo")


def test_there_are_enough_bad_inputs() -> None:
    assert len(BAD) >= 30


@pytest.mark.parametrize(("case", "answers", "words"), BAD, ids=[case for case, _, _ in BAD])
def test_bad_answer_is_rejected(
    template: Path, tmp_path: Path, case: str, answers: dict[str, object], words: list[str]
) -> None:
    dst = tmp_path / "project"
    with pytest.raises(ValueError) as error:
        run_copy(
            str(template),
            str(dst),
            data={**GOOD, **answers},
            defaults=True,
            unsafe=True,
            vcs_ref="HEAD",
            quiet=True,
        )
    message = str(error.value)
    # copier's own form for a validator and for a choice, both naming the question.
    assert message.startswith(("Validation error for question '", "Invalid choice for '")), (
        f"{case}: {message}"
    )
    for word in words:
        assert word in message, f"{case}: {word!r} not in {message}"
    assert not dst.exists(), f"{case}: the destination folder was left behind"


def test_good_answers_render(template: Path, tmp_path: Path) -> None:
    run_copy(
        str(template),
        str(tmp_path / "project"),
        data=GOOD,
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    assert (tmp_path / "project" / "snowflake").is_dir()


def test_cli_reports_the_problem_and_writes_nothing(template: Path, tmp_path: Path) -> None:
    """The same check through the `copier` command a user types."""
    dst = tmp_path / "project"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            "-d",
            "project_name=Orders Prototype",
            "-d",
            "components=[helm]",
            str(template),
            str(dst),
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode != 0
    assert "helm requires kubernetes: add kubernetes" in result.stdout + result.stderr
    assert not dst.exists()


# ---------------------------------------------------------------------------
# Answers that look hostile but are accepted: the render stays valid
# ---------------------------------------------------------------------------


def test_hostile_but_valid_answers_render_valid_files(template: Path, tmp_path: Path) -> None:
    project = render(template, tmp_path / "p", named_variants()["full"], **HOSTILE)
    broken = []
    for path in rendered_files(project):
        rel = path.relative_to(project).as_posix()
        try:
            if path.suffix in {".yml", ".yaml", ".json", ".toml"} and not any(
                fnmatch.fnmatch(rel, glob) for glob in NOT_PARSED
            ):
                parse_data_file(path)
            elif path.suffix == ".py":
                compile(path.read_text(encoding="utf-8"), rel, "exec")
        except Exception as error:  # the message names the file
            broken.append(f"{rel}: {error}")
    assert not broken, "\n".join(broken)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == HOSTILE["description"]
    deployment = yaml.safe_load((project / "astronomer" / "astronomer.yaml").read_text())
    assert deployment["deployment"]["configuration"]["description"] == HOSTILE["description"]
    assert HOSTILE["owner_email"] in str(deployment)
    meta = yaml.safe_load((project / "infrastructure/ansible/roles/base/meta/main.yml").read_text())
    assert meta["galaxy_info"]["author"] == HOSTILE["owner"]
    dbt_project = yaml.safe_load((project / "dbt" / "dbt_project.yml").read_text())
    assert HOSTILE["owner"] in str(dbt_project)
    result = subprocess.run(
        ["make", "-n", "setup", "test"], cwd=project, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------
# Destinations
# ---------------------------------------------------------------------------
def copy_into(template: Path, dst: Path, **options: object) -> None:
    run_copy(
        str(template), str(dst), data=GOOD, defaults=True, unsafe=True, vcs_ref="HEAD",
        quiet=True, **options,
    )  # fmt: skip


def test_a_folder_of_other_files_is_refused_and_left_alone(template: Path, tmp_path: Path) -> None:
    dst = tmp_path / "mine"
    dst.mkdir()
    (dst / "notes.txt").write_text("mine\n")
    with pytest.raises(Exception, match=r"already holds 1 file.*--overwrite"):
        copy_into(template, dst)
    assert sorted(p.name for p in dst.iterdir()) == ["notes.txt"]
    copy_into(template, dst, overwrite=True)  # the user's explicit choice
    assert (dst / "Makefile").is_file() and (dst / "notes.txt").is_file()


def test_a_file_as_destination_is_refused(template: Path, tmp_path: Path) -> None:
    dst = tmp_path / "afile"
    dst.write_text("x")
    with pytest.raises(Exception, match="is a file: give a folder"):
        copy_into(template, dst)
    assert dst.read_text() == "x"


def test_a_destination_inside_the_template_is_refused(template: Path) -> None:
    with pytest.raises(Exception, match="inside the template checkout"):
        copy_into(template, template / "my-prototype")
    assert not (template / "my-prototype").exists()


def test_a_fresh_git_repository_is_a_fine_destination(template: Path, tmp_path: Path) -> None:
    dst = tmp_path / "repo"
    git("init", "-q", str(dst), cwd=tmp_path)
    copy_into(template, dst)
    assert (dst / "Makefile").is_file()


def test_a_failed_render_leaves_an_empty_destination_empty(template: Path, tmp_path: Path) -> None:
    dst = tmp_path / "empty"
    dst.mkdir()
    with pytest.raises(ValueError, match="project_name"):
        run_copy(
            str(template), str(dst), data={**GOOD, "project_name": "dbt"}, defaults=True,
            unsafe=True, vcs_ref="HEAD", quiet=True,
        )  # fmt: skip
    assert dst.is_dir() and not any(dst.iterdir())


def test_a_path_with_spaces_and_accents_works_in_make(template: Path, tmp_path: Path) -> None:
    dst = tmp_path / "my prototype ü"
    render(template, dst, ["airflow"])
    result = subprocess.run(
        ["make", "-n", "setup", "demo", "increment", "dbt-venv", "test"],
        cwd=dst, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if str(dst) in line]
    assert lines, "no command names the project's path"
    for line in lines:  # the shell must see the path as one word (or inside one)
        assert any(str(dst) in word for word in shlex.split(line)), f"unquoted path: {line}"


def test_the_cli_refuses_a_bad_destination_without_a_traceback(
    template: Path, tmp_path: Path
) -> None:
    dst = tmp_path / "afile"
    dst.write_text("x")
    result = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref", "HEAD",
         "-d", "project_name=Orders", str(template), str(dst)],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "is a file: give a folder" in result.stderr
    assert "Traceback" not in result.stderr
