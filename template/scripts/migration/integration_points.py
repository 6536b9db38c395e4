"""Where this repository meets the outside world, per component: system, files, variables.

A migration moves each connection to the organisation's platform, so the checklist lists the
system a component talks to, the files that configure it (fnmatch patterns over the committed
files: ``*`` crosses folders; each must match one, or the configuration is gone or its entry
out of date) and the variables of ``.env.example`` it needs (a regular expression over their
names). ``home`` names the folders a component lives in, each with a README.md.

The entries are data: ``integration_points.json`` beside this file holds dbt's and those of
the components this repository was rendered with (the template writes them from its component
catalog). Edit an entry there when a configuration file moves.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

from repository import SetupError

POINTS = Path(__file__).resolve().parent / "integration_points.json"


class Integration(NamedTuple):
    label: str
    system: str
    files: str  # fnmatch patterns, separated by spaces
    env: str = ""
    home: str = ""  # folders, separated by spaces


@functools.cache
def read_points(path: Path = POINTS) -> dict[str, Integration]:
    """The entries of integration_points.json by key: dbt first, then the components."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["integrations"]
        return {
            e["key"]: Integration(
                e["label"],
                e["system"],
                " ".join(e["files"]),
                e.get("env", ""),
                " ".join(e.get("home", [])),
            )
            for e in entries
        }
    except OSError as error:
        problem = error.strerror or str(error)
    except KeyError as error:
        problem = f"no {error} key"
    except (ValueError, TypeError) as error:
        problem = str(error)
    raise SetupError(
        f"cannot read scripts/migration/{path.name} ({problem}): restore it with "
        f"`git checkout -- scripts/migration/{path.name}`"
    )


def __getattr__(name: str) -> Any:
    """``INTEGRATIONS``: the entries, read on first use (a broken file is a setup error)."""
    if name == "INTEGRATIONS":
        return read_points()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: A pattern that matches more files than this is shown as the pattern and a count.
SHOWN_FILES = 6
ENV_LINE = re.compile(r"^(?P<optional>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=\s*(?P<value>.*?)\s*$")


def env_variables(root: Path) -> list[tuple[str, str]]:
    """The variables .env.example sets or shows commented out (optional ones): each name and
    how the report shows it (`NAME` (default `value`), `NAME` (optional))."""
    path = root / ".env.example"
    found = []
    for m in filter(
        None, map(ENV_LINE.match, path.read_text().splitlines() if path.is_file() else [])
    ):
        default = f" (default `{m['value']}`)" if m["value"] else ""
        found.append((m["name"], f"`{m['name']}`" + (" (optional)" if m["optional"] else default)))
    return found


def files_of(point: Integration, committed: list[str]) -> tuple[list[str], list[str]]:
    """The committed files (READMEs left out) a point's patterns match, as Markdown (the
    pattern and a count when they are many), and the patterns that match none."""
    shown: list[str] = []
    unmatched: list[str] = []
    for pattern in point.files.split():
        found = [n for n in committed if fnmatch.fnmatchcase(n, pattern) and not n.endswith(".md")]
        unmatched += [] if found else [pattern]
        many = [f"`{pattern}` ({len(found)} files)"] if len(found) > SHOWN_FILES else None
        shown += [f for f in many or [f"`{n}`" for n in found] if f not in shown]
    return shown, unmatched


def chosen(components: list[str]) -> list[Integration]:
    """dbt, then the chosen components in the order of integration_points.json."""
    return [point for key, point in read_points().items() if key == "dbt" or key in components]
