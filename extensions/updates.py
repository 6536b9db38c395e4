"""Jinja filters for what copier records and runs around a project's later updates.

* ``dp_remembered``: the answers to write into ``.copier-answers.yml``, with a local
  template path made absolute, so ``copier update`` works from inside the project
  whatever folder the first ``copier copy`` ran in;
* ``dp_has_history``: whether the destination is already a git repository, the
  condition of the task that brings a user's work back after ``copier recopy``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

#: A template source that is not a local folder: a URL, scp-like git, or copier's prefixes.
REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*://|[^/@]+@[^:/]+:|gh:|gl:)", re.IGNORECASE)


def remembered(answers: object) -> dict[str, object]:
    """The answers copier records, with a relative local ``_src_path`` made absolute."""
    data = dict(answers)  # type: ignore[call-overload]
    source = str(data.get("_src_path") or "")
    if source and not REMOTE.match(source) and not os.path.isabs(os.path.expanduser(source)):
        absolute = os.path.abspath(os.path.expanduser(source))
        if os.path.isdir(absolute):
            data["_src_path"] = absolute
    return data


def has_history(destination: object) -> bool:
    """Whether the destination folder is a git repository already (a later copy or recopy)."""
    return (Path(str(destination)) / ".git").is_dir()


class UpdatesExtension(Extension):
    """Registers ``dp_remembered`` and ``dp_has_history``."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["dp_remembered"] = remembered
        environment.filters["dp_has_history"] = has_history
