"""Compile each distinct template string once per copier run.

copier renders every part of every path with `Environment.from_string`, which
compiles the string anew each time: a folder condition such as
`{% if 'airflow' in components %}airflow{% endif %}` is compiled again for each
file below it. Jinja templates are reusable (the context is given at render
time), so this extension memoises `from_string` on copier's environment for the
length of one run. It keeps the per-file cost of rendering flat instead of
growing with the depth of conditional folders (see scripts/bench.py).
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, Template
from jinja2.ext import Extension


class CompileCacheExtension(Extension):
    """Memoises `from_string` for plain string sources (no extra globals)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        compile_uncached = environment.from_string
        cache: dict[str, Template] = {}

        def from_string(source: Any, globals: Any = None, template_class: Any = None) -> Template:
            if globals is not None or template_class is not None or not isinstance(source, str):
                return compile_uncached(source, globals, template_class)
            template = cache.get(source)
            if template is None:
                template = cache[source] = compile_uncached(source)
            return template

        environment.from_string = from_string  # type: ignore[method-assign]
