"""Every variant renders what the last release rendered, but for the deliberate changes.

``tests/render_changes.toml`` lists each deliberate change to the rendered output
since the last release (a path added, removed or changed, with the reason); a path
that a release moved is a migration (``RENAMES`` in extensions/migrations.py), and
its file must arrive unchanged unless the list says it changed. Each named and
pairwise variant is rendered at the last release and at HEAD; every difference must
be one of those, so a refactoring of the template cannot change a prototype by
accident.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
from catalog import named_variants, pairwise_variants
from migrations import RENAMES, due, expand
from releases import releases, template_with_releases
from rendering import PROJECT_NAME, ROOT, render, tree_bytes

VARIANTS = {**named_variants(), **pairwise_variants()}
CHANGES_FILE = ROOT / "tests" / "render_changes.toml"
#: added, removed, changed; reordered: the same words, in another order (a part of a shared
#: file that now comes in catalog order).
KINDS = ("added", "removed", "changed", "reordered")
#: Lines of the answers file that name the template's commit and source, not the answers.
ANSWERS_META = re.compile(rb"^_(commit|src_path): .*\n", re.MULTILINE)


def allowed_changes() -> list[dict[str, object]]:
    entries = tomllib.loads(CHANGES_FILE.read_text(encoding="utf-8")).get("change", [])
    for entry in entries:
        assert entry.get("kind") in KINDS, f"render_changes.toml: bad kind in {entry}"
        assert entry.get("paths") and entry.get("why"), f"render_changes.toml: {entry}"
    return entries


def differences(old: dict[str, bytes], new: dict[str, bytes]) -> dict[str, str]:
    """{path: added | removed | changed | reordered} between two rendered trees."""
    found = {}
    for path in sorted(old.keys() | new.keys()):
        if path not in new:
            found[path] = "removed"
        elif path not in old:
            found[path] = "added"
        elif old[path] != new[path]:
            if path == ".copier-answers.yml" and ANSWERS_META.sub(
                b"", old[path]
            ) == ANSWERS_META.sub(b"", new[path]):
                continue
            same_words = sorted(old[path].split()) == sorted(new[path].split())
            found[path] = "reordered" if same_words else "changed"
    return found


def follow_moves(
    found: dict[str, str],
    old: dict[str, bytes],
    new: dict[str, bytes],
    moves: list[tuple[str, str]],
) -> dict[str, str]:
    """The differences once the moves are followed: a moved file is `changed` if it differs."""
    found = dict(found)
    for source, target in moves:
        for path in [p for p, kind in found.items() if kind == "removed"]:
            if path == source or path.startswith(source + "/"):
                moved_to = target + path[len(source) :]
                if found.get(moved_to) == "added":
                    del found[path]
                    del found[moved_to]
                    if old[path] != new[moved_to]:
                        found[moved_to] = "changed"
    return found


def unexplained(found: dict[str, str], entries: list[dict[str, object]]) -> list[str]:
    return [
        f"{kind}: {path}"
        for path, kind in found.items()
        if not any(
            # a change the list allows; a reordering is a change, too
            entry["kind"] in ({kind, "changed"} if kind == "reordered" else {kind})
            and any(fnmatch.fnmatchcase(path, g) for g in entry["paths"])
            for entry in entries
        )
    ]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return template_with_releases(tmp_path_factory.mktemp("template") / "repo")


def test_differences_are_found_and_matched() -> None:
    old = {"a": b"1", "b": b"2", "c": b"3", "e": b"x y\nz"}
    new = {"a": b"1", "b": b"two", "d": b"4", "e": b"z x\ny"}
    found = differences(old, new)
    assert found == {"b": "changed", "c": "removed", "d": "added", "e": "reordered"}
    assert unexplained({"e": "reordered"}, [{"kind": "changed", "paths": ["e"]}]) == []
    assert unexplained({"e": "changed"}, [{"kind": "reordered", "paths": ["e"]}]) == ["changed: e"]
    entries = [{"kind": "changed", "paths": ["b"], "why": "w"}, {"kind": "added", "paths": ["*"]}]
    assert unexplained(found, entries) == ["removed: c", "reordered: e"]
    answers = b"_commit: v0.1.0\n_src_path: /a\nproject_name: X\n"
    moved = b"_commit: v0.1.0-3-gabc\n_src_path: /b\nproject_name: X\n"
    assert differences({".copier-answers.yml": answers}, {".copier-answers.yml": moved}) == {}
    assert allowed_changes() is not None and releases(), "releases.toml names no release"


@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_renders_as_the_last_release(template: Path, tmp_path: Path, name: str) -> None:
    last = releases()[-1]
    components = VARIANTS[name]
    old = tree_bytes(render(template, tmp_path / "old", components, ref=last.tag))
    new = tree_bytes(render(template, tmp_path / "new", components))
    answers = {"project_name": PROJECT_NAME}
    moves = [(expand(a, answers), expand(b, answers)) for a, b in due(RENAMES, last.tag, None)]
    found = follow_moves(differences(old, new), old, new, moves)
    problems = unexplained(found, allowed_changes())
    assert not problems, (
        f"{name} renders differently from {last.tag} where tests/render_changes.toml "
        "allows no change:\n" + "\n".join(problems)
    )
