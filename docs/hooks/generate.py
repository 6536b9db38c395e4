"""MkDocs hook: the site's facts come from the files that own them, never from a copy.

* ``<!-- generated: questions -->`` (questions.md) becomes the question reference,
  read from ``copier.yml`` at build time;
* ``<!-- generated: components -->`` (components/index.md) becomes the component table,
  one row per component of ``extensions/catalog.py``;
* ``<!-- generated: facts -->`` (components/<key>.md) becomes that component's facts: what
  it requires, renders and installs, its ``make`` targets, tests and questions, and the
  READMEs of its rendered folders, read from the catalog, ``copier.yml`` and ``template/``;
* the Components section of the nav lists one page per catalog component, in its order;
* ``changelog.md`` is ``CHANGELOG.md`` itself.

A component without a page, a page for no component and an unknown marker stop the build,
so the site cannot drift from the catalog silently.
"""

from __future__ import annotations

import html
import importlib.util
import re
import sys
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any
from urllib.parse import quote

import yaml
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template"
#: A marker is a line of its own, so a page can mention one in code.
MARKER = re.compile(r"^<!-- generated: ([a-z]+) -->$", re.MULTILINE)
JINJA_TAG = re.compile(r"\{%.*?%\}")
#: ``{%- if 'looker' in components %}``: the start of a block of one component.
COMPONENT_IF = re.compile(r"^\{%-?\s*if '(\w+)' in components\s*-?%\}\s*$")
BLOCK_IF = re.compile(r"^\{%-?\s*if\b")
BLOCK_END = re.compile(r"^\{%-?\s*endif\s*-?%\}\s*$")
MAKE_TARGET = re.compile(r"^([a-z][a-z0-9_-]*):[^=].*?## (.+)$")


def _load_catalog() -> ModuleType:
    """Import extensions/catalog.py by its path, as copier does."""
    spec = importlib.util.spec_from_file_location("dp_catalog", ROOT / "extensions" / "catalog.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


CATALOG = _load_catalog()


def _rendered(template_path: Path) -> str:
    """The path a template file renders to: its Jinja tags and ``.jinja`` suffix dropped.

    ``{% if 'looker' in components %}looker{% endif %}/README.md.jinja`` -> ``looker/README.md``
    """
    text = JINJA_TAG.sub("", template_path.relative_to(TEMPLATE).as_posix())
    return text.removesuffix(".jinja")


def _source(path: Path, config: MkDocsConfig) -> str:
    """A rendered path and its template source, linked when mkdocs.yml sets ``repo_url``."""
    relative = path.relative_to(ROOT).as_posix()
    source = f"`{relative}`"
    if config.repo_url:
        source = f"[{source}]({config.repo_url.rstrip('/')}/blob/HEAD/{quote(relative)})"
    return f"`{_rendered(path)}`, from {source}"


def _questions() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load((ROOT / "copier.yml").read_text())
    return {name: spec for name, spec in data.items() if not name.startswith("_")}


def _inline(value: object) -> str:
    """A value of copier.yml as inline code (Jinja expressions shown as written)."""
    text = " ".join(str(value).split())
    return f"`{text}`"


def _asked(spec: dict[str, Any]) -> str:
    when = spec.get("when", True)
    if when is False:
        return "never: derived from other answers, not stored in `.copier-answers.yml`"
    if when is True:
        return "always"
    return f"when {_inline(when)}"


def _validator(spec: dict[str, Any]) -> str | None:
    """Which filter checks the answer, and the module that defines it."""
    validator = spec.get("validator")
    if not validator:
        return None
    filters = re.findall(r"\|\s*(dp_\w+)", validator)
    homes = []
    for name in filters:
        module = "catalog.py" if hasattr(CATALOG, name.removeprefix("dp_")) else "naming.py"
        homes.append(f"`{name}` (`extensions/{module}`)")
    return ", ".join(homes) or _inline(validator)


def questions_markdown() -> str:
    """One section per question of copier.yml, in its order."""
    sections = []
    for name, spec in _questions().items():
        kind = spec.get("type", "str") + (", several answers" if spec.get("multiselect") else "")
        help_text = html.escape(" ".join(str(spec.get("help", "")).split()), quote=False)
        lines = [f"### `{name}`", "", help_text, ""]
        lines.append(f"- **type**: {kind}")
        lines.append(f"- **asked**: {_asked(spec)}")
        if name == "components":
            defaults = ", ".join(f"`{key}`" for key in CATALOG.DEFAULTS)
            lines.append(f"- **default**: the catalog's defaults, {defaults}")
        elif "default" in spec:
            lines.append(f"- **default**: {_inline(spec['default'])}")
        else:
            lines.append(f"- **default**: none (example: {_inline(spec.get('placeholder', ''))})")
        choices = spec.get("choices")
        if isinstance(choices, dict):
            lines.append("- **choices**: " + ", ".join(f"`{v}` ({k})" for k, v in choices.items()))
        elif choices:
            lines.append("- **choices**: " + ", ".join(f"`{v}`" for v in choices))
        checked = _validator(spec)
        if checked:
            lines.append(f"- **checked by**: {checked}")
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


def components_markdown() -> str:
    """The catalog as a table linking each component's page."""
    rows = [
        "| component | key | renders | requires | default |",
        "|---|---|---|---|---|",
        "| [dbt](../index.md) (always) | | `dbt/`, `scripts/`, `docs/`, `tests/`, root files "
        "| | yes |",
    ]
    for c in CATALOG.COMPONENTS:
        owns = ", ".join(f"`{_owned(path)}`" for path in c.home)
        requires = ", ".join(f"[{r}]({r}.md)" for r in c.requires)
        default = "yes" if c.default else ""
        rows.append(f"| [{c.label}]({c.key}.md) | `{c.key}` | {owns} | {requires} | {default} |")
    return "\n".join(rows)


def _owned(path: str) -> str:
    return path if "." in PurePosixPath(path).name else f"{path}/"


def make_targets(key: str) -> list[tuple[str, str]]:
    """The targets the rendered Makefile has only with this component, with their help."""
    stack: list[str | None] = []
    found = []
    for line in (TEMPLATE / "Makefile.jinja").read_text().splitlines():
        match = COMPONENT_IF.match(line)
        if match:
            stack.append(match.group(1))
        elif BLOCK_IF.match(line) and "endif" not in line:
            stack.append(None)
        elif BLOCK_END.match(line) and stack:
            stack.pop()
        else:
            target = MAKE_TARGET.match(line)
            if target and key in stack:
                found.append((target.group(1), JINJA_TAG.sub("", target.group(2)).strip()))
    return found


def _conditional_paths(key: str, under: str) -> list[Path]:
    """Template paths under ``under`` whose own name is conditional on this component."""
    condition = f"'{key}' in components"
    paths = sorted((TEMPLATE / under).rglob("*"))
    outer = [p for p in paths if condition in p.name]
    return [p for p in outer if not any(parent in outer for parent in p.parents)]


def _readmes(key: str) -> list[Path]:
    """The READMEs of the folders this component renders."""
    owned = [PurePosixPath(path) for path in CATALOG.BY_KEY[key].home]
    found = []
    for readme in sorted(TEMPLATE.rglob("README.md*")):
        rendered = PurePosixPath(_rendered(readme))
        if rendered.parts[0] == "tests":
            continue
        owner = max(
            (p for p in CATALOG.home_paths(CATALOG.KEYS) if _under(rendered, PurePosixPath(p))),
            key=len,
            default=None,
        )
        if owner is not None and PurePosixPath(owner) in owned:
            found.append(readme)
    return found


def _under(path: PurePosixPath, folder: PurePosixPath) -> bool:
    return path.parts[: len(folder.parts)] == folder.parts


def facts_markdown(key: str, config: MkDocsConfig) -> str:
    """The facts of one component, as a list."""
    c = CATALOG.BY_KEY[key]
    required_by = [o.key for o in CATALOG.COMPONENTS if key in o.requires]
    link = ", ".join(f"[{k}]({k}.md)" for k in c.requires) or "nothing besides dbt"
    lines = [
        f'!!! info "{c.label}: `{key}`"',
        f"    {c.help}",
        "",
        f"- **answer**: add `{key}` to the `components` question"
        + (" (chosen by default)" if c.default else ""),
        f"- **requires**: {link}",
    ]
    if required_by:
        lines.append("- **required by**: " + ", ".join(f"[{k}]({k}.md)" for k in required_by))
    lines.append("- **renders**: " + ", ".join(f"`{_owned(p)}`" for p in c.home))
    if c.packages:
        lines.append("- **packages**: " + ", ".join(f"`{p}`" for p in c.packages))
    if c.dev_packages:
        lines.append("- **dev packages**: " + ", ".join(f"`{p}`" for p in c.dev_packages))
    targets = make_targets(key)
    if targets:
        lines.append("- **make targets**:")
        lines += [f"    - `make {name}`: {text}" for name, text in targets]
    tests = _conditional_paths(key, "tests")
    if tests:
        rendered = ", ".join(f"`{_rendered(p)}`" for p in tests)
        lines.append(f"- **tests** (in the rendered repository): {rendered}")
    asked = [n for n, s in _questions().items() if f"'{key}' in components" in str(s.get("when"))]
    if asked:
        lines.append(
            "- **questions**: " + ", ".join(f"[`{n}`](../questions.md#{n})" for n in asked)
        )
    readmes = _readmes(key)
    if readmes:
        lines.append("- **folder READMEs** (the full detail):")
        lines += [f"    - {_source(p, config)}" for p in readmes]
    return "\n".join(lines)


def _component_key(page: Page) -> str | None:
    path = PurePosixPath(page.file.src_uri)
    if path.parent.as_posix() == "components" and path.stem != "index":
        return path.stem
    return None


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Fill the Components section of the nav from the catalog."""
    for entry in config.nav or []:
        if isinstance(entry, dict) and "Components" in entry:
            entry["Components"] = [
                "components/index.md",
                *({c.label: f"components/{c.key}.md"} for c in CATALOG.COMPONENTS),
            ]
            return config
    raise PluginError("mkdocs.yml: the nav has no 'Components' section for the hook to fill")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the changelog page; stop when a component page is missing or unknown."""
    pages = {
        PurePosixPath(f.src_uri).stem
        for f in files.documentation_pages()
        if PurePosixPath(f.src_uri).parent.as_posix() == "components"
    } - {"index"}
    missing = sorted(set(CATALOG.KEYS) - pages)
    if missing:
        raise PluginError(
            f"docs/components/{missing[0]}.md is missing: every component of "
            "extensions/catalog.py needs a page (copy another component's page)"
        )
    unknown = sorted(pages - set(CATALOG.KEYS))
    if unknown:
        raise PluginError(
            f"docs/components/{unknown[0]}.md names no component of extensions/catalog.py: "
            "rename it after a catalog key, or delete it"
        )
    changelog = (ROOT / "CHANGELOG.md").read_text()
    files.append(File.generated(config, "changelog.md", content=changelog))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, **_: Any) -> str:
    """Replace each ``<!-- generated: ... -->`` marker by what it names."""
    key = _component_key(page)
    if key and "facts" not in MARKER.findall(markdown):
        raise PluginError(
            f"docs/{page.file.src_uri} has no '<!-- generated: facts -->' line: "
            "add it under the title"
        )

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "questions":
            return questions_markdown()
        if name == "components":
            return components_markdown()
        if name == "facts" and key:
            return facts_markdown(key, config)
        raise PluginError(f"docs/{page.file.src_uri}: unknown marker '{match.group(0)}'")

    return MARKER.sub(replace, markdown)
