"""Copier's messages after copy and update tell the user exactly what to run next.

They are the first thing a user reads, and they name `make` targets: a target that a
variant's Makefile lacks would send a newcomer into an error on the first command.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from catalog import named_variants
from copier import run_copy, run_update
from rendering import PROJECT_NAME, git, snapshot

VARIANTS = ("minimal", "defaults", "full")
#: The order in which the message after copy must list the first steps.
FIRST_STEPS = ("setup", "demo", "lint", "test")
MAKE_TARGET = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):", re.MULTILINE)
# A make command in a message: an indented command line, or a `make ...` span in prose.
MAKE_COMMAND = re.compile(r"^\s+make ([a-z][a-z0-9_-]*)|`make ([a-z][a-z0-9_-]*)", re.MULTILINE)
ANY_MAKE = re.compile(r"\bmake [a-z]")
PROSE = "a `make` command is written in prose: put it in backticks or on its own line"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(tmp_path_factory.mktemp("template") / "repo")


def mentioned_targets(message: str) -> list[str]:
    return [a or b for a, b in MAKE_COMMAND.findall(message)]


def message_problems(message: str, makefile: str) -> list[str]:
    """What in a message would mislead: unknown targets, `make` words not written as commands."""
    targets = set(MAKE_TARGET.findall(makefile))
    mentioned = mentioned_targets(message)
    unknown = [target for target in mentioned if target not in targets]
    problems = [f"`make {target}` is not a target of the rendered Makefile" for target in unknown]
    if len(ANY_MAKE.findall(message)) != len(mentioned):
        problems.append(PROSE)
    return problems


def after(marker: str, output: str) -> str:
    """The message: copier prints its file operations first, the message last."""
    assert marker in output, f"no message starting with {marker!r} in copier's output:\n{output}"
    return output[output.index(marker) :]


def copy_message(
    template: Path, dst: Path, components: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> str:
    capsys.readouterr()
    run_copy(
        str(template),
        str(dst),
        data={"project_name": PROJECT_NAME, "components": list(components)},
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=False,
    )
    return after(f"{PROJECT_NAME} is ready in", capsys.readouterr().err)


@pytest.mark.parametrize("name", VARIANTS)
def test_copy_message_names_the_next_commands(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    project = tmp_path / "project"
    message = copy_message(template, project, named_variants()[name], capsys)
    assert f'cd "{project}"' in message
    assert "git init && git add -A" in message
    firsts = [t for t in dict.fromkeys(mentioned_targets(message)) if t in FIRST_STEPS]
    assert firsts == list(FIRST_STEPS), f"the first steps are {firsts}, not {FIRST_STEPS}"
    assert message_problems(message, (project / "Makefile").read_text()) == []


def test_copy_message_notes_only_chosen_components(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = copy_message(template, tmp_path / "project", ("snowflake", "looker"), capsys)
    assert "cp .env.example .env" in message and "`make looker`" in message
    assert "airflow" not in message.lower() and "make quality" not in message


def test_update_message_says_how_to_finish_the_update(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    copy_message(template, project, named_variants()["defaults"], capsys)
    git("init", "-q", "-b", "main", cwd=project)
    git("add", "-A", cwd=project)
    git("commit", "-q", "-m", "Render from the template", cwd=project)
    run_update(
        str(project), defaults=True, overwrite=True, unsafe=True, vcs_ref="HEAD", quiet=False
    )
    message = after(f"{PROJECT_NAME} is updated", capsys.readouterr().err)
    for step in ("git diff", ".rej", "<<<<<<<", "git commit"):
        assert step in message, f"the message after update does not mention {step}"
    assert mentioned_targets(message) == ["setup", "lint", "test"]
    assert message_problems(message, (project / "Makefile").read_text()) == []


def test_message_check_finds_an_unknown_target_and_prose() -> None:
    makefile = "setup:\n\ttrue\ntest:\n\ttrue\n"
    assert message_problems("  make setup\n  make test\n", makefile) == []
    unknown = message_problems("  make setup\n  make deploy\n", makefile)
    assert unknown == ["`make deploy` is not a target of the rendered Makefile"]
    assert message_problems("Then make test runs it.\n", makefile) == [PROSE]
