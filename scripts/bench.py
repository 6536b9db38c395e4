#!/usr/bin/env python3
"""Benchmark the template: how long ``copier copy`` and ``copier update`` take.

Usage::

    python scripts/bench.py [--runs N] [--peer PATH] [--json PATH]
    make bench [PEER=PATH]

The work tree (tracked files and untracked ones that are not ignored) is copied
to a temporary git repository, committed and tagged ``v<VERSION>``, so copier
renders exactly what is on disk. For the variants minimal, defaults and full of
``extensions/catalog.py`` it then runs the real ``copier`` CLI of this
interpreter's environment as a subprocess and prints, as medians over N runs:

* the wall time of ``copier copy`` and the number of files it rendered (every
  file below the output, ``.git`` left out), and the time per rendered file,
  with and without the start-up cost of the CLI (``copier --version``);
* the CPU time per rendered file (user + system time of the copy and of the
  processes it waited for), which a busy machine disturbs far less than wall
  time;
* the wall time of ``copier update`` on a committed copy (reset after each run).

**Peer.** ``--peer PATH`` sets the render cost per file of our variants side by
side with Troubladore/data-eng-template, a cookiecutter template of the same
field (Airflow, dbt, Postgres). PATH is a local clone or git directory of it
(``git clone https://github.com/Troubladore/data-eng-template``); nothing is
fetched. PATH is cloned into the benchmark's temporary folder, and each run
renders it with the ``cookiecutter`` CLI of this environment and ``--no-input``
from a ``git+file://`` URL of that clone, so that cookiecutter, like copier with
``--vcs-ref``, clones the template on every run. ``COOKIECUTTER_CONFIG`` points
cookiecutter at a config file that keeps its clones and replay files in the
temporary folder, never in the home folder. Its rendered files are counted as
ours are.

Hooks: the peer's post-generation hook writes three files from generated values
and runs ``git init`` and an initial commit; copier's copy here does no such
thing. The row the comparison uses therefore renders with ``--accept-hooks no``
(template rendering only, as for ours); a second row renders with its hook on,
as shipped, for reference (if the hook fails here, that row is reported as
failed, with the reason).

The copies are made in rounds (each round copies every variant once and renders
the peer once without and once with hooks, N rounds), so that load that drifts
on the machine weighs on all of them alike.

The last lines compare the full variant with the target of 12 ms per rendered
file and, with ``--peer``, the defaults variant with the peer without hooks.
This is a measurement, not a test: it exits 0 whatever the figures are (2 only
when it cannot run at all: copier or git missing, or with ``--peer``
cookiecutter missing or PATH not a clone of a cookiecutter template).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("minimal", "defaults", "full")
TARGET_MS_PER_FILE = 12.0
PROJECT_NAME = "Bench Prototype"
PEER_NAME = "Troubladore/data-eng-template"
#: The peer's rows: key, label, --accept-hooks. The goal uses the first.
PEER_ROWS = (
    ("peer-hooks-off", "peer, hooks off", "no"),
    ("peer-hooks-on", "peer, hooks on", "yes"),
)
TIMEOUT_S = 900
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}
GIT_CONFIG = [
    "-c",
    "init.defaultBranch=main",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "tag.gpgsign=false",
]


class BenchError(RuntimeError):
    """A command of the benchmark failed; the message says which and why."""


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **GIT_ENV, **(extra or {})}
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return env


def run(
    cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            cmd,
            cwd=cwd,
            env=environment(env),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"timed out after {TIMEOUT_S} s: {' '.join(cmd)}") from error
    if result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip()).splitlines()
        tail = "\n    ".join(output[-15:]) or "(no output)"
        raise BenchError(f"exit {result.returncode}: {' '.join(cmd)}\n    {tail}")
    return result


def timed(
    cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Wall time and CPU time (user + system of the command and what it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run(cmd, cwd=cwd, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(["git", *GIT_CONFIG, *args], cwd=cwd)


# --------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------
def copier(*args: str) -> list[str]:
    return [sys.executable, "-m", "copier", *args]


def cookiecutter(*args: str) -> list[str]:
    return [sys.executable, "-m", "cookiecutter", *args]


def copy_cmd(template: Path, components: tuple[str, ...]) -> list[str]:
    """``copier copy`` of a variant; the destination is appended."""
    return copier(
        "copy",
        "--trust",
        "--defaults",
        "--quiet",
        "--vcs-ref",
        "HEAD",
        "-d",
        f"project_name={PROJECT_NAME}",
        "-d",
        f"components={json.dumps(list(components))}",
        str(template),
    )


def peer_commands(path: Path, workdir: Path) -> tuple[dict[str, list[str]], dict[str, str], str]:
    """The cookiecutter renders of the peer (the destination is appended), their
    environment and the commit rendered. PATH is cloned into workdir first."""
    path = path.expanduser().resolve()
    if not path.exists():
        raise BenchError(f"{path} does not exist")
    clone = workdir / "peer-repo"
    try:
        run(["git", "clone", "-q", str(path), str(clone)])
    except BenchError as error:
        raise BenchError(f"{path} is not a git repository: {error}") from error
    if not (clone / "cookiecutter.json").is_file():
        raise BenchError(f"{path} is not a cookiecutter template: no cookiecutter.json at HEAD")
    commit = git("rev-parse", "--short", "HEAD", cwd=clone).stdout.strip()
    # cookiecutter's clones and replay files stay in the temporary folder.
    config = workdir / "cookiecutter.yaml"
    config.write_text(
        f"cookiecutters_dir: {json.dumps(str(workdir / 'cookiecutters'))}\n"
        f"replay_dir: {json.dumps(str(workdir / 'cookiecutter-replay'))}\n",
        encoding="utf-8",
    )
    source = "git+" + clone.as_uri()  # cloned again on each run
    cmds = {
        key: cookiecutter("--no-input", "--accept-hooks", hooks, source, "--output-dir")
        for key, _, hooks in PEER_ROWS
    }
    return cmds, {"COOKIECUTTER_CONFIG": str(config)}, commit


def count_files(dst: Path) -> int:
    """Files and links below dst, a ``.git`` folder left out."""
    return sum(
        1
        for path in dst.rglob("*")
        if (path.is_file() or path.is_symlink()) and ".git" not in path.relative_to(dst).parts
    )


def measure_rounds(
    cmds: dict[str, list[str]], envs: dict[str, dict[str, str]], workdir: Path, runs: int
) -> dict[str, dict[str, object]]:
    """Run every command (the destination appended) once a round, for runs rounds.

    The last output of each stays in workdir/<key>-<runs - 1>. A command that
    fails is reported and not run again.
    """
    samples: dict[str, tuple[list[float], list[float], set[int]]] = {
        key: ([], [], set()) for key in cmds
    }
    errors: dict[str, str] = {}
    for index in range(runs):
        for key, cmd in cmds.items():
            if key in errors:
                continue
            print(f"bench: {key} ({index + 1}/{runs}) ...", file=sys.stderr, flush=True)
            dst = workdir / f"{key}-{index}"
            try:
                wall, cpu = timed([*cmd, str(dst)], env=envs.get(key))
            except BenchError as error:
                print(f"bench: {key} failed: {error}", file=sys.stderr)
                errors[key] = str(error)
                continue
            walls, cpus, counts = samples[key]
            walls.append(wall)
            cpus.append(cpu)
            counts.add(count_files(dst))
            if index < runs - 1:
                shutil.rmtree(dst)

    results: dict[str, dict[str, object]] = {}
    for key, (walls, cpus, counts) in samples.items():
        if key in errors:
            results[key] = {"error": errors[key]}
            continue
        files = max(counts)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        results[key] = {
            "files": files,
            "file_counts_differ": len(counts) > 1,
            "copy_s": walls,
            "copy_median_s": wall,
            "ms_per_file": wall * 1000 / files if files else None,
            "cpu_s": cpus,
            "cpu_median_s": cpu,
            "cpu_ms_per_file": cpu * 1000 / files if files else None,
        }
    return results


def measure_update(dst: Path, runs: int) -> dict[str, object]:
    """``copier update`` of the copy dst, committed first and reset after each run."""
    git("init", "-q", cwd=dst)
    git("add", "-A", cwd=dst)
    git("commit", "-q", "--no-verify", "-m", "rendered", cwd=dst)
    update = copier("update", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD", str(dst))
    updates = []
    for _ in range(runs):
        updates.append(timed(update, cwd=dst)[0])
        git("reset", "--hard", "-q", cwd=dst)
        git("clean", "-fdq", cwd=dst)
    return {"update_s": updates, "update_median_s": statistics.median(updates)}


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------
def fmt(value: object, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(rows_in: list[tuple[str, str, dict[str, object], float]]) -> str:
    """One line per (label, components, figures, start-up of its CLI)."""
    header = (
        "variant",
        "components",
        "files",
        "copy s",
        "ms/file",
        "net ms/file",
        "cpu ms/file",
        "update s",
    )
    rows = [header]
    for label, components, figures, startup in rows_in:
        if "error" in figures:
            rows.append((label, components, "-", "-", "-", "-", "-", "FAILED"))
            continue
        files = figures["files"]
        net = (figures["copy_median_s"] - startup) * 1000 / files if files else None
        rows.append(
            (
                label,
                components,
                str(files) + ("*" if figures["file_counts_differ"] else ""),
                fmt(figures["copy_median_s"], ".2f"),
                fmt(figures["ms_per_file"], ".1f"),
                fmt(net, ".1f"),
                fmt(figures["cpu_ms_per_file"], ".1f"),
                fmt(figures.get("update_median_s"), ".2f"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for number, row in enumerate(rows):
        cells = [
            row[0].ljust(widths[0]),
            *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)),
        ]
        lines.append("  ".join(cells))
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (default 5)")
    parser.add_argument(
        "--peer",
        type=Path,
        metavar="PATH",
        help=f"a local clone or git directory of {PEER_NAME} to compare with",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    if importlib.util.find_spec("copier") is None:
        print(
            f"bench: copier is not importable by {sys.executable}; run this script with the "
            "template's dev environment, e.g. `.venv/bin/python scripts/bench.py` after "
            "`uv sync` (or `pip install --group dev`)",
            file=sys.stderr,
        )
        return 2
    if args.peer and importlib.util.find_spec("cookiecutter") is None:
        print(
            f"bench: --peer renders the peer with cookiecutter, which is not importable by "
            f"{sys.executable}; run `make setup` (cookiecutter is a dev dependency)",
            file=sys.stderr,
        )
        return 2
    if shutil.which("git") is None:
        print(
            "bench: git is not on PATH; copier needs it for templates and updates", file=sys.stderr
        )
        return 2

    # The catalog imports Jinja, which comes with copier: import it only now. The
    # template is copied into a tagged git repository the way the tests do it.
    sys.path[:0] = [str(ROOT / "extensions"), str(ROOT / "tests")]
    from catalog import named_variants
    from rendering import snapshot, work_tree_files

    variants = named_variants()
    peer: dict[str, object] | None = None
    with tempfile.TemporaryDirectory(prefix="copier-bench-") as tmp:
        workdir = Path(tmp).resolve()
        if args.peer:
            try:
                peer_cmds, peer_env, commit = peer_commands(args.peer, workdir)
            except BenchError as error:
                print(f"bench: --peer: {error}", file=sys.stderr)
                print(f"(PATH: a local clone or git directory of {PEER_NAME})", file=sys.stderr)
                return 2
        try:
            template = snapshot(workdir / "template-repo")
            version = (template / "VERSION").read_text(encoding="utf-8").strip()
            template_files_count = len(work_tree_files())
            startups = [timed(copier("--version"))[0] for _ in range(args.runs)]
            copier_version = "copier " + run(copier("--version")).stdout.split()[-1]
            if args.peer:
                peer_startups = [timed(cookiecutter("--version"))[0] for _ in range(args.runs)]
                peer = {
                    "name": PEER_NAME,
                    "path": str(args.peer),
                    "commit": commit,
                    "cookiecutter": run(cookiecutter("--version")).stdout.split()[1],
                    "startup_s": peer_startups,
                    "startup_median_s": statistics.median(peer_startups),
                }
        except (BenchError, subprocess.CalledProcessError) as error:
            print(f"bench: cannot prepare the benchmark: {error}", file=sys.stderr)
            return 2
        startup = statistics.median(startups)

        # One copy of each a round, so that drifting load weighs on all alike.
        cmds = {name: copy_cmd(template, variants[name]) for name in VARIANTS}
        envs: dict[str, dict[str, str]] = {}
        if peer is not None:
            cmds.update(peer_cmds)
            envs = dict.fromkeys(peer_cmds, peer_env)
        rounds = measure_rounds(cmds, envs, workdir, args.runs)
        results: dict[str, dict[str, object]] = {}
        for name in VARIANTS:
            results[name] = {"components": list(variants[name]), **rounds[name]}
            if "error" in results[name]:
                continue
            print(f"bench: {name} update ({args.runs} runs) ...", file=sys.stderr, flush=True)
            try:
                results[name].update(measure_update(workdir / f"{name}-{args.runs - 1}", args.runs))
            except BenchError as error:
                print(f"bench: {name} update failed: {error}", file=sys.stderr)
                results[name]["error"] = str(error)

    print(
        f"{copier_version}, Python {sys.version.split()[0]}, template v{version} "
        f"({template_files_count} files), median of {args.runs} run(s)"
    )
    print(f"copier start-up (copier --version): {startup:.2f} s")
    rows = [(name, str(len(f["components"])), f, startup) for name, f in results.items()]
    if peer is not None:
        print(
            f"peer: {PEER_NAME} at {peer['commit']}, cookiecutter {peer['cookiecutter']}, "
            f"start-up (cookiecutter --version): {peer['startup_median_s']:.2f} s"
        )
        for key, label, _ in PEER_ROWS:
            peer[key] = rounds[key]
            rows.append((label, "-", rounds[key], float(peer["startup_median_s"])))
    print()
    print(table(rows))
    print()
    print("ms/file: copy time / rendered files; net ms/file: the same without the start-up cost")
    print("cpu ms/file: user + system time of the copy and its child processes / rendered files")
    if peer is not None:
        print("peer: cookiecutter --no-input, cloning the peer on each run as copier clones ours")
        print("hooks on: its post-gen hook as shipped (writes 3 files, runs git init and commit)")
    if any(f.get("file_counts_differ") for _, _, f, _ in rows):
        print("*: the number of rendered files differed between runs (the largest is shown)")
    for label, _, figures, _ in rows:
        if "error" in figures:
            print(f"{label} failed: {figures['error']}")

    print()
    full = results["full"]
    if full.get("ms_per_file") is not None:
        ms = float(full["ms_per_file"])
        verdict, detail = ("PASS" if ms <= TARGET_MS_PER_FILE else "FAIL"), f"{ms:.1f} ms"
    else:
        verdict, detail = "FAIL", "not measured: copier failed"
    print(
        f"target: full variant <= {TARGET_MS_PER_FILE:g} ms per rendered file: {verdict} ({detail})"
    )
    target = {
        "variant": "full",
        "max_ms_per_file": TARGET_MS_PER_FILE,
        "ms_per_file": full.get("ms_per_file"),
        "pass": verdict == "PASS",
    }
    if peer is None:
        print(
            f"peer comparison not run: pass --peer PATH (make bench PEER=PATH), PATH a local "
            f"clone or git directory of {PEER_NAME}"
        )
    else:
        ours = results["defaults"].get("ms_per_file")
        theirs = peer[PEER_ROWS[0][0]].get("ms_per_file")
        ratio = None if ours is None or theirs is None else float(ours) / float(theirs)
        if ratio is None:
            verdict = "FAIL"
            detail = "not measured: " + ("copier" if ours is None else "cookiecutter") + " failed"
        else:
            verdict = "PASS" if ratio <= 1 else "FAIL"
            detail = f"ours {ours:.1f} ms, peer {theirs:.1f} ms, ratio {ratio:.2f}"
        print(f"goal: defaults variant <= peer ms per file: {verdict} ({detail})")
        peer["goal"] = {
            "variant": "defaults",
            "peer_row": PEER_ROWS[0][0],
            "ms_per_file": ours,
            "peer_ms_per_file": theirs,
            "ratio": ratio,
            "pass": verdict == "PASS",
        }

    if args.json:
        payload = {
            "copier": copier_version,
            "python": sys.version.split()[0],
            "template_version": version,
            "runs": args.runs,
            "startup_s": startups,
            "startup_median_s": startup,
            "variants": results,
            "target": target,
            "peer": peer,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
