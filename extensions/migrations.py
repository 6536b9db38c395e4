"""Around every `copier update`: moved paths keep their edits, removed paths keep your work.

copier knows neither renames nor whose edits a deleted file holds. copier.yml runs
this script twice around every update (`_migrations`):

    migrations.py before --template SRC --from 0.1.0 --to 0.2.0
    migrations.py after  --from 0.1.0 --to 0.2.0

* before: the project's previous render is made again (its answers, the commit
  recorded in `.copier-answers.yml`) into `.git/copier-data-prototype/previous`,
  outside the work tree: it tells a file the user edited from one the template wrote.
* after: copier has applied the new release.
  1. Each path a release in (from, to] moved (RENAMES) gets the user's last
     committed version merged three ways into its new path (`git merge-file`: the
     user's file, the previous render, the new render). An unedited file becomes the
     new one, a file of the user's own in a moved folder moves along, a conflict
     leaves copier's markers (`<<<<<<< before updating`), and a path the user had
     deleted stays deleted. Each move is staged (`git add`), so git records it as
     a rename, and named once.
  2. A file copier deleted (a component left out, a file the release dropped) that
     the user had changed, or had added in a deleted folder, is restored and listed
     with the reason and the one command that deletes it.
  3. Every conflict (inline markers, `.rej` files, moved files included) is listed
     at the end, and each is visible in `git status`.

Versions are read with packaging.version. An update from or to an untagged
commit says what it did: the renames of every listed release after the last
release it descends from are applied (a rename whose old path is gone is a no-op).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

#: Paths moved by each release: {version: [(old path, new path), ...]}, paths as rendered
#: in a project (files or folders), the more specific first. `{package_name}` stands for
#: the project's package name. Add an entry whenever a release moves a rendered path.
RENAMES: dict[str, list[tuple[str, str]]] = {
    "0.2.0": [
        # Grafana in the seed layout: grafana/{dashboards,datasources,alerting}.
        ("monitoring/grafana/provisioning/datasources", "grafana/datasources"),
        ("grafana/provisioning/alerting", "grafana/alerting"),
        ("grafana/provisioning/dashboards/dashboards.yml", "grafana/dashboards/dashboards.yml"),
        # Each component's tests in tests/<component>/.
        ("tests/integration/snowflake_emulator", "tests/snowflake/emulator"),
        ("tests/integration/snowflake_scripts.py", "tests/snowflake/snowflake_scripts.py"),
        ("tests/integration/test_snowflake_emulator.py", "tests/snowflake/test_snowflake_emulator.py"),  # noqa: E501
        ("tests/integration/test_snowflake_objects.py", "tests/snowflake/test_snowflake_objects.py"),  # noqa: E501
        ("tests/unit/test_setup_snowflake_keypair.py", "tests/snowflake/test_setup_snowflake_keypair.py"),  # noqa: E501
        ("tests/integration/test_permifrost.py", "tests/permifrost/test_permifrost.py"),
        ("tests/integration/test_astronomer.py", "tests/astronomer/test_astronomer.py"),
        ("tests/cicd/test_deploy_astro.py", "tests/astronomer/test_deploy_astro.py"),
        ("tests/integration/test_compose.py", "tests/docker/test_compose.py"),
        ("tests/data_quality/test_checkpoint.py", "tests/great_expectations/test_checkpoint.py"),
        ("tests/data_quality/test_profiles.py", "tests/great_expectations/test_profiles.py"),
        ("tests/data_quality/test_suites.py", "tests/great_expectations/test_suites.py"),
        ("tests/integration/test_pipeline.py", "tests/data_quality/test_pipeline.py"),
        ("tests/monitoring/test_grafana.py", "tests/grafana/test_grafana.py"),
        ("tests/monitoring", "tests/prometheus"),
        ("tests/infrastructure/terraform_config.py", "tests/terraform/terraform_config.py"),
        ("tests/infrastructure/test_terraform.py", "tests/terraform/test_terraform.py"),
        ("tests/infrastructure/k8s_manifests.py", "tests/kubernetes/k8s_manifests.py"),
        ("tests/infrastructure/test_kubernetes.py", "tests/kubernetes/test_kubernetes.py"),
        ("tests/infrastructure/k8s_helm.py", "tests/helm/k8s_helm.py"),
        ("tests/infrastructure/test_helm.py", "tests/helm/test_helm.py"),
        ("tests/infrastructure/test_ansible.py", "tests/ansible/test_ansible.py"),
        ("tests/cicd/cicd_github.py", "tests/github_actions/cicd_github.py"),
        ("tests/cicd/test_github_actions.py", "tests/github_actions/test_github_actions.py"),
        ("tests/cicd/cicd_jenkins.py", "tests/jenkins/cicd_jenkins.py"),
        ("tests/cicd/test_jenkins.py", "tests/jenkins/test_jenkins.py"),
        ("tests/integration/test_audit_logs.py", "tests/security/test_audit_logs.py"),
        ("tests/integration/test_data_classification.py", "tests/security/test_data_classification.py"),  # noqa: E501
        ("tests/integration/test_masking.py", "tests/security/test_masking.py"),
        ("tests/integration/test_pii_scan.py", "tests/security/test_pii_scan.py"),
        ("tests/unit/test_classification.py", "tests/security/test_classification.py"),
        ("tests/unit/test_compliance.py", "tests/security/test_compliance.py"),
        ("tests/unit/test_detect_secrets.py", "tests/security/test_detect_secrets.py"),
        ("tests/unit/test_pii_detectors.py", "tests/security/test_pii_detectors.py"),
        # The Astronomer deploy script lives with astronomer/, CI system or not.
        ("cicd/deploy_astro.sh", "astronomer/deploy.sh"),
        # The LookML model has a fixed name.
        ("looker/models/{package_name}.model.lkml", "looker/models/marts.model.lkml"),
    ],
}  # fmt: skip

STASH = Path(".git") / "copier-data-prototype"
#: `git describe` of a commit after a tag: `v0.1.0-3-gabc1234`, maybe `-dirty`.
DESCRIBED = re.compile(r"^(?P<tag>.+)-\d+-g[0-9a-f]+(-dirty)?$")
#: An abbreviated or full commit id (even one of digits only) is never a version.
COMMIT_ID = re.compile(r"^[0-9a-f]{7,40}$")
ANSWERS = ".copier-answers.yml"
PREFIX = "copier-data-prototype:"
MARKER_START = b"<<<<<<< before updating"


# --------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Ref:
    """A version copier reported: the last release it descends from, and whether it is one."""

    text: str
    release: Version | None
    exact: bool

    @classmethod
    def parse(cls, text: str | None) -> Ref:
        """`v0.2.0` is release 0.2.0; `v0.1.0-3-gabc1234` (git describe) and
        `0.1.0.post3.dev0+abc` descend from 0.1.0; a commit id, a branch name or
        nothing is no version at all."""
        text = (text or "").strip()
        if not text or text == "None":
            return cls(text, None, False)
        if COMMIT_ID.match(text):
            return cls(text, None, False)
        described = DESCRIBED.match(text)
        try:
            version = Version(described["tag"] if described else text)
        except InvalidVersion:
            return cls(text, None, False)
        if described:
            return cls(text, Version(version.base_version), False)
        exact = not (version.is_devrelease or version.is_postrelease or version.local)
        return cls(text, Version(version.base_version), exact)

    def describe(self) -> str:
        if self.release is None:
            return f"{self.text or 'an unknown version'} (no release)"
        if self.exact:
            return f"release {self.release}"
        return f"{self.text}, an untagged commit after release {self.release}"


def due(
    renames: dict[str, list[tuple[str, str]]], old: str | None, new: str | None
) -> Iterator[tuple[str, str]]:
    """The renames of the releases after `old` up to `new`, oldest first.

    From an untagged commit, the renames after the release it descends from; to
    one (or to no version), every later rename listed: the template at hand is
    newer than its last release.
    """
    start, end = Ref.parse(old), Ref.parse(new)
    for version in sorted(renames, key=Version):
        number = Version(version)
        if start.release is not None and number <= start.release:
            continue
        if end.exact and end.release is not None and number > end.release:
            continue
        yield from renames[version]


def version_notice(old: str | None, new: str | None) -> str | None:
    """One line saying what an update from or to an untagged commit did about renames."""
    start, end = Ref.parse(old), Ref.parse(new)
    if start.exact and end.exact:
        return None
    listed = ", ".join(v for v in sorted(RENAMES, key=Version)) or "none"
    return (
        f"updating from {start.describe()} to {end.describe()}: the renames of every "
        f"release after {start.release or 'the first'} are applied where their old path "
        f"exists (releases with renames: {listed})"
    )


# --------------------------------------------------------------------------
# git and files
# --------------------------------------------------------------------------
def git(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=check)


def committed(project: Path, path: str = ".") -> list[str]:
    """Files at or below `path` in the project's last commit (its state before the update)."""
    listed = git(project, "ls-tree", "-r", "--name-only", "-z", "HEAD", "--", path)
    return sorted(name for name in listed.stdout.split("\0") if name)


def head_bytes(project: Path, path: str) -> bytes:
    return subprocess.run(
        ["git", "show", f"HEAD:{path}"], cwd=project, capture_output=True, check=True
    ).stdout


def read_answers(project: Path) -> dict[str, object]:
    import yaml  # copier's own dependency, present wherever copier runs

    return yaml.safe_load((project / ANSWERS).read_text(encoding="utf-8")) or {}


def expand(path: str, answers: dict[str, object]) -> str:
    """A RENAMES path with `{package_name}` filled in from the answers."""
    if "{" not in path:
        return path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from naming import package_name

    return path.format(package_name=package_name(str(answers.get("project_name", ""))))


# --------------------------------------------------------------------------
# Stage before: the previous render
# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# Stage after
# --------------------------------------------------------------------------
@dataclass
class Report:
    moved: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stage: set[str] = field(default_factory=set)


def merge_three(
    mine: bytes, base: bytes | None, theirs: Path, scratch: Path, conflict: str = "inline"
) -> str:
    """Merge the user's `mine` into the template's file `theirs` (base: the previous render).

    Returns how it went: "merged", "conflict" (inline markers left in `theirs`) or
    "rej" (with `--conflict rej`: `theirs` stays the template's, and `<theirs>.rej`
    beside it holds the user's changes that did not apply).
    """
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "mine").write_bytes(mine)
    (scratch / "base").write_bytes(base or b"")
    merged = subprocess.run(
        ["git", "merge-file", "-p", "-L", "before updating", "-L", "last update",
         "-L", "after updating", str(scratch / "mine"), str(scratch / "base"), str(theirs)],
        capture_output=True, check=False,
    )  # fmt: skip
    if merged.returncode < 0 or merged.returncode > 127:
        raise RuntimeError(f"git merge-file failed on {theirs}: {merged.stderr.decode()}")
    if not merged.returncode:
        theirs.write_bytes(merged.stdout)
        return "merged"
    if conflict != "rej":
        theirs.write_bytes(merged.stdout)
        return "conflict"
    diff = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", str(scratch / "base"), str(scratch / "mine")],
        capture_output=True, check=False,
    ).stdout  # fmt: skip
    hunks = diff[diff.find(b"\n@@") + 1 :] if b"\n@@" in diff else diff
    name = theirs.name.encode()
    Path(f"{theirs}.rej").write_bytes(b"diff a/%s b/%s\t(rejected hunks)\n%s" % (name, name, hunks))
    return "rej"


#: How a merge went, in words (`path`: the merged file).
OUTCOMES = {
    "merged": "your edits merged",
    "conflict": "your edits merged with conflicts: resolve the markers",
    "rej": "your edits that did not apply are in {path}.rej",
}


def merge_into(
    project: Path, old: str, new: str, previous: Path, report: Report, conflict: str = "inline"
) -> None:
    """Carry the user's committed `old` to the freshly rendered `new`."""
    mine = head_bytes(project, old)
    base_path, theirs = previous / old, project / new
    base = base_path.read_bytes() if base_path.is_file() else None
    report.stage.update({old, new})
    if not theirs.exists():
        if base is None:
            theirs.parent.mkdir(parents=True, exist_ok=True)
            theirs.write_bytes(mine)
            report.moved.append(f"{old} -> {new} (your own file, moved with its folder)")
        elif mine != base:
            theirs.parent.mkdir(parents=True, exist_ok=True)
            theirs.write_bytes(mine)
            report.kept.append((new, f"you changed {old}, which the template no longer renders"))
        else:
            report.removed.append(old)
        return
    if base is not None and mine == base:
        report.moved.append(f"{old} -> {new}")
        return
    outcome = merge_three(mine, base, theirs, previous.parent / "merge", conflict)
    report.moved.append(f"{old} -> {new} ({OUTCOMES[outcome].format(path=new)})")


def apply_renames(
    project: Path,
    renames: list[tuple[str, str]],
    previous: Path,
    report: Report,
    conflict: str = "inline",
) -> set[str]:
    """Carry each moved path's committed files to their new home; return the files handled."""
    answers = read_answers(project)
    handled: set[str] = set()
    for old_pattern, new_pattern in renames:
        old, new = expand(old_pattern, answers), expand(new_pattern, answers)
        mine = [name for name in committed(project, old) if name not in handled]
        if not mine:
            fresh = project / new
            if (previous / old).exists() and fresh.is_file() and not committed(project, new):
                # The user had deleted the path: it stays deleted under its new name.
                fresh.unlink()
                report.notes.append(f"{old} was deleted in this project: {new} is not created")
            continue
        for name in mine:
            merge_into(project, name, new + name[len(old) :], previous, report, conflict)
            handled.add(name)
            # copier could not apply the user's diff to a path it moved: the merge did.
            (project / f"{name}.rej").unlink(missing_ok=True)
        leftover = project / old
        if leftover.is_dir():
            shutil.rmtree(leftover)
        elif leftover.is_file():
            leftover.unlink()
    return handled


def dropped_components(project: Path) -> dict[str, list[str]]:
    """The components the update leaves out: {key: the paths it owns}."""
    import yaml

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from catalog import BY_KEY

    try:
        before_update = yaml.safe_load(head_bytes(project, ANSWERS)) or {}
    except subprocess.CalledProcessError:
        return {}
    chosen = set(read_answers(project).get("components") or [])
    return {
        key: list(BY_KEY[key].owns)
        for key in before_update.get("components") or []
        if key in BY_KEY and key not in chosen
    }


def protect_deleted(project: Path, previous: Path, handled: set[str], report: Report) -> None:
    """Restore the files copier deleted that hold the user's work, and say so.

    The user's own files among those of a component left out stay where they are;
    they are listed too, since nothing renders or checks beside them any more.
    """
    dropped = dropped_components(project)
    for name in committed(project):
        owner = next(
            (key for key, paths in dropped.items() if any(owned_by(name, p) for p in paths)),
            None,
        )
        if owner and (project / name).exists() and not (previous / name).exists():
            report.kept.append((name, f"your own file, among those of {owner}, left out now"))
            continue
        if name in handled or (project / name).exists() or name.startswith(".git/"):
            continue
        rendered = previous / name
        if rendered.is_file() and rendered.read_bytes() == head_bytes(project, name):
            report.removed.append(name)
            continue
        git(project, "checkout", "HEAD", "--", name)
        why = (
            "you changed it, and the template no longer renders it"
            if rendered.is_file()
            else "your own file, in a folder the template no longer renders"
        )
        report.kept.append((name, why))


def owned_by(path: str, pattern: str) -> bool:
    return path == pattern or path.startswith(pattern + "/")


def conflicts(project: Path) -> list[str]:
    """Every conflict left in the work tree: files with copier's markers, and .rej files."""
    listed = git(project, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    found = []
    for name in sorted(set(listed.stdout.split("\0")) - {""}):
        path = project / name
        if not path.is_file():
            continue
        if name.endswith(".rej"):
            found.append(f"{name} (hunks copier could not apply to {name[:-4]})")
        elif MARKER_START in path.read_bytes():
            found.append(f"{name} (conflict markers)")
    return found


def after(project: Path, old: str | None, new: str | None, conflict: str = "inline") -> Report:
    report = Report()
    notice = version_notice(old, new)
    if notice:
        report.notes.append(notice)
    previous = project / STASH / "previous"
    if not previous.is_dir():
        report.notes.append("no render of the previous release: moved and deleted paths unchecked")
        return report
    handled = apply_renames(project, list(due(RENAMES, old, new)), previous, report, conflict)
    protect_deleted(project, previous, handled, report)
    stage_moves(project, report)
    shutil.rmtree(project / STASH, ignore_errors=True)
    return report


def stage_moves(project: Path, report: Report) -> None:
    """Stage both sides of every move, so that git records it as a rename."""
    existing = sorted(p for p in report.stage if (project / p).exists() or committed(project, p))
    if existing:
        git(project, "add", "-A", "--", *existing)


def render_into(template: str, answers: dict[str, object], ref: str, dst: Path) -> None:
    from copier import run_copy

    run_copy(
        template,
        str(dst),
        data={k: v for k, v in answers.items() if not k.startswith("_")},
        vcs_ref=ref,
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=True,
    )


def recopy(project: Path, template: str, ref: str, conflict: str = "inline") -> Report | None:
    """After `copier recopy` (or a copy over an earlier render): bring the user's work back.

    copier has written the template's files over the project. Each file the user had
    changed is merged three ways (their last commit, the previous render, this one);
    a file the user had deleted is deleted again; moved paths move as in an update; a
    file the previous render had and this one has not, unchanged by the user, goes.
    """
    try:
        text = head_bytes(project, ANSWERS).decode()
    except subprocess.CalledProcessError:
        return None  # a first copy: nothing of the user's to keep
    import yaml

    answers = yaml.safe_load(text) or {}
    stash = project / STASH
    shutil.rmtree(stash, ignore_errors=True)
    previous, fresh = stash / "previous", stash / "new"
    render_into(template, answers, str(answers.get("_commit") or "HEAD"), previous)
    render_into(template, read_answers(project), ref, fresh)
    report = Report()
    renames = list(due(RENAMES, str(answers.get("_commit")), ref))
    handled = apply_renames(project, renames, previous, report, conflict)
    for name in committed(project):
        current, base_path = project / name, previous / name
        if name in handled or name == ANSWERS or not current.is_file():
            continue
        mine = head_bytes(project, name)
        base = base_path.read_bytes() if base_path.is_file() else None
        if base is not None and mine != base and current.read_bytes() != mine:
            outcome = merge_three(mine, base, current, stash / "merge", conflict)
            report.notes.append(f"{name}: {OUTCOMES[outcome].format(path=name)}")
        elif base is not None and not (fresh / name).exists():
            if mine == base:
                current.unlink()
                report.removed.append(name)
            else:
                report.kept.append((name, "you changed it, and the template no longer renders it"))
    for name in sorted(_files(previous)):
        if not committed(project, name) and (project / name).is_file() and name not in handled:
            (project / name).unlink()
            report.notes.append(f"{name} was deleted in this project: it stays deleted")
    stage_moves(project, report)
    shutil.rmtree(stash, ignore_errors=True)
    return report


def _files(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]


def print_report(report: Report, conflicted: list[str]) -> None:
    lines = [*report.notes]
    lines += [f"moved {move}" for move in report.moved]
    if report.removed:
        folders = sorted({name.split("/")[0] for name in report.removed})
        lines.append(
            f"removed {len(report.removed)} file(s) you had not changed, which the new release "
            f"does not render (in {', '.join(folders)})"
        )
    if report.kept:
        lines.append("kept, though the new release does not render them:")
        lines += [f"  {name}: {why}" for name, why in report.kept]
        names = " ".join(f"'{name}'" for name, _ in report.kept)
        lines.append(f"  to delete them: git rm -- {names}")
    if conflicted:
        lines.append(f"{len(conflicted)} conflict(s) to resolve before you commit:")
        lines += [f"  {item}" for item in conflicted]
    else:
        lines.append("no conflicts")
    for line in lines:
        print(f"{PREFIX} {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["before", "after", "recopy"])
    parser.add_argument("--from", dest="old", help="version the project was rendered from")
    parser.add_argument("--to", dest="new", help="version the project is updated to")
    parser.add_argument("--template", help="the template being updated to (before, recopy)")
    parser.add_argument("--ref", default="HEAD", help="the template's commit (recopy)")
    parser.add_argument("--project", type=Path, default=Path.cwd())
    parser.add_argument(
        "--conflict", choices=["inline", "rej"], default="inline", help="copier's --conflict"
    )
    args = parser.parse_args(argv)
    if not (args.project / ".git").is_dir():
        print(f"{PREFIX} not the top of a git repository: moved and deleted paths unchecked")
        return 0
    if args.stage in {"before", "recopy"} and not args.template:
        parser.error(f"stage {args.stage} needs --template")
    if args.stage == "before":
        before(args.project, args.template)
        return 0
    if args.stage == "recopy":
        recopied = recopy(args.project, args.template, args.ref, args.conflict)
        if recopied is not None:
            print_report(recopied, conflicts(args.project))
        return 0
    report = after(args.project, args.old, args.new, args.conflict)
    print_report(report, conflicts(args.project))
    return 0


if __name__ == "__main__":
    sys.exit(main())
