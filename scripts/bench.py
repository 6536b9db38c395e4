#!/usr/bin/env python3
"""Benchmark the template: how long ``copier copy`` and ``copier update`` take.

Usage::

    python scripts/bench.py [--runs N] [--json PATH]

The work tree (tracked files and untracked ones that are not ignored) is copied
to a temporary git repository, committed and tagged ``v<VERSION>``, so copier
renders exactly what is on disk. For the variants minimal, defaults and full of
``extensions/catalog.py`` it then runs the real ``copier`` CLI of this
interpreter's environment as a subprocess and prints, as medians over N runs:

* the wall time of ``copier copy`` and the number of files it rendered, and the
  time per rendered file;
* the wall time of ``copier update`` on a committed copy (reset after each run);
* the start-up cost of the CLI (``copier --version``).

The last line compares the full variant with the target of 12 ms per rendered
file. This is a measurement, not a test: it exits 0 whatever the figures are
(2 only when it cannot run at all: copier or git missing).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
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


def environment() -> dict[str, str]:
    env = {**os.environ, **GIT_ENV}
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    return env


def run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            cmd,
            cwd=cwd,
            env=environment(),
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


def timed(cmd: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    run(cmd, cwd=cwd)
    return time.perf_counter() - start


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(["git", *GIT_CONFIG, *args], cwd=cwd)


# --------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------
def copier(*args: str) -> list[str]:
    return [sys.executable, "-m", "copier", *args]


def copy_cmd(template: Path, dst: Path, components: tuple[str, ...]) -> list[str]:
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
        str(dst),
    )


def count_files(dst: Path) -> int:
    return sum(1 for path in dst.rglob("*") if path.is_file() or path.is_symlink())


def measure_variant(
    template: Path, workdir: Path, name: str, components: tuple[str, ...], runs: int
) -> dict[str, object]:
    figures: dict[str, object] = {"components": list(components)}
    copies: list[float] = []
    counts: set[int] = set()
    dst = workdir
    for index in range(runs):
        dst = workdir / f"{name}-copy-{index}"
        copies.append(timed(copy_cmd(template, dst, components)))
        counts.add(count_files(dst))
        if index < runs - 1:
            shutil.rmtree(dst)
    files = max(counts)
    copy_median = statistics.median(copies)
    figures.update(
        files=files,
        file_counts_differ=len(counts) > 1,
        copy_s=copies,
        copy_median_s=copy_median,
        ms_per_file=copy_median * 1000 / files if files else None,
    )

    # The last copy becomes the committed project that is updated.
    git("init", "-q", cwd=dst)
    git("add", "-A", cwd=dst)
    git("commit", "-q", "--no-verify", "-m", "rendered", cwd=dst)
    update = copier("update", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD", str(dst))
    updates = []
    for _ in range(runs):
        updates.append(timed(update, cwd=dst))
        git("reset", "--hard", "-q", cwd=dst)
        git("clean", "-fdq", cwd=dst)
    figures.update(update_s=updates, update_median_s=statistics.median(updates))
    shutil.rmtree(dst)
    return figures


def fmt(value: object, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(startup: float, results: dict[str, dict[str, object]]) -> str:
    header = ("variant", "components", "files", "copy s", "ms/file", "net ms/file", "update s")
    rows = [header]
    for name, figures in results.items():
        if "error" in figures:
            rows.append((name, str(len(figures["components"])), "-", "-", "-", "-", "FAILED"))
            continue
        files = figures["files"]
        net = (figures["copy_median_s"] - startup) * 1000 / files if files else None
        rows.append(
            (
                name,
                str(len(figures["components"])),
                str(files) + ("*" if figures["file_counts_differ"] else ""),
                fmt(figures["copy_median_s"], ".2f"),
                fmt(figures["ms_per_file"], ".1f"),
                fmt(net, ".1f"),
                fmt(figures["update_median_s"], ".2f"),
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
    with tempfile.TemporaryDirectory(prefix="copier-bench-") as tmp:
        workdir = Path(tmp).resolve()
        try:
            template = snapshot(workdir / "template-repo")
            version = (template / "VERSION").read_text(encoding="utf-8").strip()
            template_files_count = len(work_tree_files())
            startups = [timed(copier("--version")) for _ in range(args.runs)]
            copier_version = "copier " + run(copier("--version")).stdout.split()[-1]
        except (BenchError, subprocess.CalledProcessError) as error:
            print(f"bench: cannot prepare the benchmark: {error}", file=sys.stderr)
            return 2
        startup = statistics.median(startups)

        results: dict[str, dict[str, object]] = {}
        for name in VARIANTS:
            print(f"bench: {name} ({args.runs} runs) ...", file=sys.stderr, flush=True)
            try:
                results[name] = measure_variant(template, workdir, name, variants[name], args.runs)
            except BenchError as error:
                print(f"bench: {name} failed: {error}", file=sys.stderr)
                results[name] = {"components": list(variants[name]), "error": str(error)}

    print(
        f"{copier_version}, Python {sys.version.split()[0]}, template v{version} "
        f"({template_files_count} files), median of {args.runs} run(s)"
    )
    print(f"copier start-up (copier --version): {startup:.2f} s")
    print()
    print(table(startup, results))
    print()
    print("ms/file: copy time / rendered files; net ms/file: the same without the start-up cost")
    if any(f.get("file_counts_differ") for f in results.values()):
        print("*: the number of rendered files differed between runs (the largest is shown)")

    full = results.get("full", {})
    if full.get("ms_per_file") is not None:
        ms = float(full["ms_per_file"])
        verdict, detail = ("PASS" if ms <= TARGET_MS_PER_FILE else "FAIL"), f"{ms:.1f} ms"
    else:
        verdict, detail = "FAIL", "not measured: copier failed"
    print(
        f"target: full variant <= {TARGET_MS_PER_FILE:g} ms per rendered file: {verdict} ({detail})"
    )

    if args.json:
        payload = {
            "copier": copier_version,
            "python": sys.version.split()[0],
            "template_version": version,
            "runs": args.runs,
            "startup_s": startups,
            "startup_median_s": startup,
            "variants": results,
            "target": {
                "variant": "full",
                "max_ms_per_file": TARGET_MS_PER_FILE,
                "ms_per_file": full.get("ms_per_file"),
                "pass": verdict == "PASS",
            },
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
