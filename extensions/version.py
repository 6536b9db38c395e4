"""The template's version, read from the VERSION file (its only home)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

VERSION_FILE = Path(__file__).resolve().parent.parent / "VERSION"


def template_version() -> str:
    return VERSION_FILE.read_text(encoding="utf-8").strip()


class VersionExtension(Extension):
    """Exposes ``dp_template_version`` to the templates."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["dp_template_version"] = template_version()
