"""Bad answers stop early: each fails with the validator's message and writes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from catalog import BY_KEY
from copier import run_copy
from rendering import snapshot

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
    ("name-too-long", {"project_name": "A" * 65}, ["65 characters", "64 or fewer"]),
    ("unknown-component", {"components": ["snowflake", "spark"]}, ["'spark'", "is not in"]),
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
    assert len(BAD) >= 10


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
    for word in words:
        assert word in str(error.value), f"{case}: {word!r} not in {error.value}"
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
