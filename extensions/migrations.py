"""Carry the user's edits across paths that the template renamed.

copier does not know renames: on `copier update` a renamed template file is
rendered fresh at its new path while the user's copy stays, edited, at the old
one. copier.yml runs this script twice around every update (`_migrations`):

    migrations.py before --template SRC --from 0.1.0 --to 0.2.0
    migrations.py after  --from 0.1.0 --to 0.2.0

For each path renamed by a release in (from, to] (the RENAMES table below):

* before: the project's previous release is rendered again (same answers, the
  commit recorded in `.copier-answers.yml`) into `.git/copier-data-prototype/`,
  outside the work tree: the base of the merges;
* after: copier has rendered the new path and removed the old one; the user's
  file as last committed at the old path is merged three ways into the new path
  (`git merge-file`: the user's file, the previous release, the new release).
  An unedited file simply becomes the new one; files the user added in a renamed
  folder move along; a conflict leaves copier's own markers
  (`<<<<<<< before updating`). A path the user had deleted stays deleted under
  its new name too.

The script writes nothing when no rename is due.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

#: Paths renamed by each release: {version: [(old path, new path), ...]}, paths
#: as rendered in a project (files or folders). Add an entry whenever a release
#: moves a rendered path.
RENAMES: dict[str, list[tuple[str, str]]] = {}

STASH = Path(".git") / "copier-data-prototype"
ANSWERS = ".copier-answers.yml"


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """`v0.2.0`, `0.2.0.post3.dev0+abc` -> (0, 2, 0); None when unknown."""
    if not text or text == "None":
        return None
    match = re.match(r"v?(\d+(?:\.\d+)*)", text.strip())
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def due(
    renames: dict[str, list[tuple[str, str]]], old: str | None, new: str | None
) -> Iterator[tuple[str, str]]:
    """The renames of the releases after `old` up to and including `new`, oldest first."""
    start, end = parse_version(old), parse_version(new)
    for version in sorted(renames, key=lambda v: parse_version(v) or ()):
        number = parse_version(version)
        if number is None:
            raise ValueError(f"RENAMES has a key that is not a version: {version!r}")
        if start is not None and number <= start:
            continue
        if end is not None and number > end:
            continue
        yield from renames[version]


def git(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=check)


def files_under(root: Path, path: str) -> list[str]:
    """`path` itself when it is a file, else every file below it (relative to root)."""
    target = root / path
    if target.is_file():
        return [path]
    if target.is_dir():
        return sorted(p.relative_to(root).as_posix() for p in target.rglob("*") if p.is_file())
    return []


def read_answers(project: Path) -> dict[str, object]:
    import yaml  # copier's own dependency, present wherever copier runs

    return yaml.safe_load((project / ANSWERS).read_text(encoding="utf-8")) or {}


def before(project: Path, template: str) -> None:
    """Render the project's previous release again, as the base of the merges."""
    from copier import run_copy

    answers = read_answers(project)
    stash = project / STASH
    shutil.rmtree(stash, ignore_errors=True)
    stash.mkdir(parents=True)
    run_copy(
        template,
        str(stash / "previous"),
        data={k: v for k, v in answers.items() if not k.startswith("_")},
        vcs_ref=str(answers.get("_commit") or "HEAD"),
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=True,
    )


def committed_files(project: Path, path: str) -> list[str]:
    """Files at or below `path` in the project's last commit (its state before the update)."""
    listed = git(project, "ls-tree", "-r", "--name-only", "-z", "HEAD", "--", path)
    return sorted(name for name in listed.stdout.split("\0") if name)


def merge_file(project: Path, old: str, new: str, previous: Path) -> str:
    """Merge the user's committed `old` into the freshly rendered `new`; return a note."""
    mine = git(project, "show", f"HEAD:{old}").stdout.encode()
    theirs, base = project / new, previous / old
    theirs.parent.mkdir(parents=True, exist_ok=True)
    if not theirs.exists():
        theirs.write_bytes(mine)
        return f"moved {old} -> {new}"
    if base.exists() and mine == base.read_bytes():
        return f"{old} was not edited: {new} is the new release's"
    scratch = previous.parent
    (scratch / "mine").write_bytes(mine)
    (scratch / "base").write_bytes(base.read_bytes() if base.exists() else b"")
    merged = subprocess.run(
        [
            "git", "merge-file", "-p",
            "-L", "before updating", "-L", "last update", "-L", "after updating",
            str(scratch / "mine"), str(scratch / "base"), str(theirs),
        ],
        capture_output=True,
        check=False,
    )  # fmt: skip
    if merged.returncode < 0 or merged.returncode > 127:
        raise RuntimeError(f"git merge-file failed on {old}: {merged.stderr.decode()}")
    theirs.write_bytes(merged.stdout)
    if merged.returncode:
        return f"merged your edits of {old} into {new} with conflicts: resolve the markers"
    return f"merged your edits of {old} into {new}"


def after(project: Path, renames: list[tuple[str, str]]) -> list[str]:
    """Merge each renamed path; copier has already removed the old one from the work tree."""
    previous = project / STASH / "previous"
    if not previous.is_dir():
        return ["no record of the previous release: renamed paths were left as copier put them"]
    notes = []
    for old, new in renames:
        mine = committed_files(project, old)
        if not mine:
            rendered = previous / old
            fresh = project / new
            if rendered.exists() and fresh.exists() and not committed_files(project, new):
                # The user had deleted the path: it stays deleted under its new name.
                shutil.rmtree(fresh) if fresh.is_dir() else fresh.unlink()
                notes.append(f"{old} was deleted in this project: {new} is not created")
            continue
        for name in mine:
            notes.append(merge_file(project, name, new + name[len(old) :], previous))
        leftover = project / old  # the user's own files in a renamed folder
        for name in files_under(project, old):
            target = project / (new + name[len(old) :])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(project / name, target)
            notes.append(f"moved {name} -> {target.relative_to(project).as_posix()}")
        if leftover.is_dir():
            shutil.rmtree(leftover)
    shutil.rmtree(project / STASH, ignore_errors=True)
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["before", "after"])
    parser.add_argument("--from", dest="old", help="version the project was rendered from")
    parser.add_argument("--to", dest="new", help="version the project is updated to")
    parser.add_argument("--template", help="the template being updated to (stage before)")
    parser.add_argument("--project", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    renames = list(due(RENAMES, args.old, args.new))
    if not renames:
        return 0
    if not (args.project / ".git").is_dir():
        print("copier-data-prototype migration: not a git repository; renames skipped")
        return 0
    if args.stage == "before":
        if not args.template:
            parser.error("stage before needs --template")
        before(args.project, args.template)
    else:
        for note in after(args.project, renames):
            print(f"copier-data-prototype migration: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
