#!/usr/bin/env python3
"""Release the template: `make release VERSION=x.y.z`.

Usage::

    python scripts/release.py [--skip-tests] [--pytest-args=ARGS] [--date YYYY-MM-DD] x.y.z

Checks first, writes last. It refuses, with one line naming the problem and the fix
and without changing anything, when:

* the version is not a plain release `x.y.z` (`packaging.version`: no pre, post, dev
  or local part), its tag `vx.y.z` exists already, or it is not above the last release
  of `releases.toml` and every `v<version>` tag;
* the repository is not on a branch with a commit, or its work tree is not clean;
* `CHANGELOG.md` has no `## Unreleased` section with something in it beyond the
  standard sentence, or already has a section for the version;
* `RENAMES` of `extensions/migrations.py` lists a rename for a version above the
  new one (a rename of a later release would be applied by this one);
* `make test` fails (`PYTEST_ARGS` is passed on; `--skip-tests` is for this script's
  own tests only, `make release` never gives it).

Then it makes two commits and one tag:

1. "Release x.y.z": `VERSION` holds x.y.z, and `CHANGELOG.md`'s `## Unreleased`
   section becomes `## x.y.z (YYYY-MM-DD)` under a fresh, empty `## Unreleased`.
   The annotated tag `vx.y.z` points at this commit: it is the state the entry
   describes.
2. "Record release x.y.z": `releases.toml` gains the row (version, the id of the
   tagged commit, date) and `tests/render_changes.toml` loses its entries (its
   header comment stays).

Why two: a commit cannot hold its own id, and `tests/releases.py` rebuilds each tag
on exactly the commit its row names, so the row must name the tagged commit and be
written after it (release 0.1.0 was recorded the same way). The allow-list moves with
the row because `tests/test_output_preserved.py` reads the two together: it lists the
render changes since the last release of `releases.toml`. So at the tag, the tests
compare with the previous release and its full list; from the second commit on, with
the new release and an empty list.

Should a commit or the tag fail, the branch, the index and the files are put back
as they were, and any tag made is deleted.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
VERSION_FILE = ROOT / "VERSION"
CHANGELOG = ROOT / "CHANGELOG.md"
RELEASES = ROOT / "releases.toml"
RENDER_CHANGES = ROOT / "tests" / "render_changes.toml"
MIGRATIONS = ROOT / "extensions" / "migrations.py"
#: The first line of every `## Unreleased` section; the release does not take it.
UNRELEASED_SENTENCE = (
    "What `main` holds beyond the last release; the next release takes this section."
)
UNRELEASED = re.compile(r"^## Unreleased[ \t]*\n(?P<body>.*?)(?=^## |\Z)", re.M | re.S)
RELEASE_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


class Refused(Exception):
    """A check failed: the problem, and what to do about it."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}: {fix}")


def git(*args: str, check: bool = True) -> str:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    if check and result.returncode:
        said = (result.stderr or result.stdout).strip().splitlines()
        reason = said[-1] if said else f"exit status {result.returncode}"
        raise RuntimeError(f"git {args[0]}: {reason}")
    return result.stdout.rstrip("\n")


def git_ok(*args: str) -> bool:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True).returncode == 0


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------
def parse_version(text: str) -> Version:
    fix = "give three numbers, e.g. make release VERSION=1.2.0"
    if not text:
        raise Refused("no version given", fix)
    try:
        version = Version(text)
    except InvalidVersion:
        raise Refused(f"VERSION={text} is not a version", fix) from None
    if not RELEASE_VERSION.match(text) or str(version) != text:
        raise Refused(f"VERSION={text} is not a plain release x.y.z", fix)
    return version


def check_date(text: str) -> None:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        raise Refused(f"--date {text} is not a date", "give it as YYYY-MM-DD") from None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise Refused(f"--date {text} is not a date", "give it as YYYY-MM-DD")


def last_release() -> Version | None:
    rows = tomllib.loads(RELEASES.read_text(encoding="utf-8")).get("release", [])
    return Version(rows[-1]["version"]) if rows else None


def tagged_versions() -> list[Version]:
    versions = []
    for tag in git("tag", "--list", "v*").splitlines():
        try:
            versions.append(Version(tag.removeprefix("v")))
        except InvalidVersion:
            continue
    return versions


def check_version(version: Version) -> None:
    tag = f"v{version}"
    if git_ok("rev-parse", "--quiet", "--verify", f"refs/tags/{tag}"):
        raise Refused(
            f"the tag {tag} exists already",
            "release a higher version, or delete the tag if it was made by mistake "
            f"(git tag -d {tag})",
        )
    last = last_release()
    if last is not None and version <= last:
        raise Refused(
            f"{version} is not above the last release {last} of releases.toml",
            "give a higher version",
        )
    higher = [v for v in tagged_versions() if v >= version]
    if higher:
        raise Refused(
            f"{version} is not above the tag v{max(higher)}",
            "give a version above every v<version> tag",
        )


def check_repository() -> str:
    """The commit to release: HEAD of a branch, with a clean work tree."""
    if not git_ok("rev-parse", "--quiet", "--verify", "HEAD^{commit}"):
        raise Refused("the repository has no commit yet", "commit the template first")
    if not git_ok("symbolic-ref", "--quiet", "HEAD"):
        raise Refused("HEAD is detached", "check out the branch to release (git switch main)")
    dirty = [
        line[3:] for line in git("status", "--porcelain", "--untracked-files=normal").splitlines()
    ]
    if dirty:
        more = f" and {len(dirty) - 1} more" if len(dirty) > 1 else ""
        raise Refused(
            f"the work tree is not clean ({dirty[0]}{more})",
            "commit or stash the changes (git status lists them), then release again",
        )
    return git("rev-parse", "HEAD")


def unreleased_body(text: str) -> str:
    """What the `## Unreleased` section holds beyond its standard sentence."""
    match = UNRELEASED.search(text)
    if not match:
        raise Refused(
            "CHANGELOG.md has no '## Unreleased' section",
            "add one above the last release and write what this release changes in it",
        )
    body = match["body"].replace(UNRELEASED_SENTENCE, "", 1).strip()
    if not body:
        raise Refused(
            "CHANGELOG.md's '## Unreleased' section is empty",
            "write what this release changes in a prototype there, then commit it",
        )
    return body


def check_changelog(version: Version) -> None:
    text = CHANGELOG.read_text(encoding="utf-8")
    unreleased_body(text)
    if re.search(rf"^## {re.escape(str(version))}\b", text, re.M):
        raise Refused(
            f"CHANGELOG.md has a '## {version}' section already",
            "move its lines into '## Unreleased' and delete its heading",
        )


def check_renames(version: Version) -> None:
    sys.path.insert(0, str(MIGRATIONS.parent))
    try:
        from migrations import RENAMES
    finally:
        sys.path.remove(str(MIGRATIONS.parent))
    last = last_release()
    later = sorted(
        (Version(key) for key in RENAMES if last is None or Version(key) > last),
        reverse=True,
    )
    if later and later[0] > version:
        raise Refused(
            f"RENAMES of extensions/migrations.py lists renames for {later[0]}, "
            f"above the release {version}",
            f"release {later[0]} instead, or key those renames by {version}",
        )


def run_tests(pytest_args: str) -> None:
    make = os.environ.get("MAKE", "make")
    print(f"release: running make test PYTEST_ARGS={pytest_args!r}", flush=True)
    result = subprocess.run([make, "test", f"PYTEST_ARGS={pytest_args}"], cwd=ROOT)
    if result.returncode:
        raise Refused("make test failed", "fix the failing tests, commit, and release again")


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------
def dated_changelog(text: str, version: Version, date: str) -> str:
    body = unreleased_body(text)
    match = UNRELEASED.search(text)
    assert match
    section = f"## Unreleased\n\n{UNRELEASED_SENTENCE}\n\n## {version} ({date})\n\n{body}\n"
    rest = text[match.end() :]
    return text[: match.start()] + section + ("\n" + rest if rest else "")


def emptied_render_changes(text: str) -> str:
    """The allow-list's header comment, without its entries."""
    header = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            break
        header.append(line)
    return "\n".join(header).rstrip() + "\n"


def with_release_row(text: str, version: Version, commit: str, date: str) -> str:
    row = f'[[release]]\nversion = "{version}"\ncommit = "{commit}"\ndate = "{date}"\n'
    return text.rstrip("\n") + "\n\n" + row


def write(files: dict[Path, str]) -> None:
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")


def commit(files: dict[Path, str], message: str) -> str:
    write(files)
    git("add", "--", *(str(path.relative_to(ROOT)) for path in files))
    git("commit", "--quiet", "-m", message)
    return git("rev-parse", "HEAD")


def release(version: Version, date: str, start: str) -> tuple[str, str]:
    """The two commits and the tag; on any failure, everything as it was at `start`."""
    tag = f"v{version}"
    originals = {
        path: path.read_text(encoding="utf-8")
        for path in (VERSION_FILE, CHANGELOG, RELEASES, RENDER_CHANGES)
    }
    try:
        released = commit(
            {
                VERSION_FILE: f"{version}\n",
                CHANGELOG: dated_changelog(originals[CHANGELOG], version, date),
            },
            f"Release {version}\n\nVERSION is {version}; CHANGELOG.md dates its section "
            f"({date}). The tag {tag} points at this commit.",
        )
        recorded = commit(
            {
                RELEASES: with_release_row(originals[RELEASES], version, released, date),
                RENDER_CHANGES: emptied_render_changes(originals[RENDER_CHANGES]),
            },
            f"Record release {version}: its row in releases.toml, an empty allow-list\n\n"
            f"{tag} is an annotated tag on {released[:12]}, the release commit, which "
            "cannot hold its own id. tests/render_changes.toml lists the render changes "
            f"since {version} from now on.",
        )
        git("tag", "-a", "-m", f"Release {version}", tag, released)
    except BaseException as error:  # an interrupt, too, leaves nothing behind
        git("tag", "-d", tag, check=False)
        git("reset", "--quiet", start, check=False)
        write(originals)
        if not isinstance(error, Exception):
            raise
        raise Refused(
            f"the release commit failed ({error})",
            "nothing was changed; fix the cause and release again",
        ) from error
    return released, recorded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", nargs="?", default="", help="x.y.z")
    parser.add_argument(
        "--skip-tests", action="store_true", help="do not run make test (this script's tests)"
    )
    parser.add_argument("--pytest-args", default=os.environ.get("PYTEST_ARGS", ""))
    parser.add_argument("--date", default=datetime.date.today().isoformat(), help="YYYY-MM-DD")
    args = parser.parse_args(argv)
    try:
        version = parse_version(args.version.strip())
        check_date(args.date)
        check_version(version)
        start = check_repository()
        check_changelog(version)
        check_renames(version)
        if not args.skip_tests:
            run_tests(args.pytest_args)
            if check_repository() != start:
                raise Refused("HEAD moved while the tests ran", "release again")
        released, recorded = release(version, args.date, start)
    except Refused as refusal:
        print(f"release refused: {refusal}", file=sys.stderr)
        return 1
    print(
        f"released {version}: tag v{version} on {released[:12]} (Release {version}), "
        f"its releases.toml row in {recorded[:12]}; publish both: git push --follow-tags"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
