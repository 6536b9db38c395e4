"""MkDocs hook: the site's facts come from the files that own them, never from a copy.

* ``<!-- generated: questions -->`` (questions.md) becomes the question reference,
  read from ``copier.yml`` at build time;
* ``<!-- generated: components -->`` (components/index.md) becomes the component table,
  one row per component of the catalog (``components/<key>/component.toml``);
* each component's page is its module's ``components/<key>/docs.md``, published as
  ``components/<key>.md``; its ``<!-- generated: facts -->`` line becomes the component's
  facts: what it requires, renders and installs, its ``make`` targets (from its Makefile
  fragment), tests and questions, and the READMEs of its rendered folders;
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

from copier._template import load_template_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template"
#: A marker is a line of its own, so a page can mention one in code.
MARKER = re.compile(r"^<!-- generated: ([a-z]+) -->$", re.MULTILINE)
JINJA_TAG = re.compile(r"\{%.*?%\}")
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
    """The path a template file renders to: its ``.jinja`` suffix dropped."""
    return template_path.relative_to(TEMPLATE).as_posix().removesuffix(".jinja")


def _source(path: Path, config: MkDocsConfig) -> str:
    """A rendered path and its template source, linked when mkdocs.yml sets ``repo_url``."""
    relative = path.relative_to(ROOT).as_posix()
    source = f"`{relative}`"
    if config.repo_url:
        source = f"[{source}]({config.repo_url.rstrip('/')}/blob/HEAD/{quote(relative)})"
    return f"`{_rendered(path)}`, from {source}"


def _questions() -> dict[str, dict[str, Any]]:
    data = load_template_config(ROOT / "copier.yml")
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
    """The targets the component adds to the rendered Makefile (its fragment), with their help."""
    fragment = ROOT / "components" / key / "fragments" / "Makefile.jinja"
    if not fragment.is_file():
        return []
    return [
        (match.group(1), JINJA_TAG.sub("", match.group(2)).strip())
        for match in map(MAKE_TARGET.match, fragment.read_text().splitlines())
        if match
    ]


def _owned_tests(key: str) -> list[str]:
    """The paths under tests/ that render only with this component."""
    return [path for path in CATALOG.BY_KEY[key].owns if path.startswith("tests/")]


def _readmes(key: str) -> list[Path]:
    """The READMEs of the folders this component renders (not those of a nested component)."""
    homes = {PurePosixPath(p): k for k in CATALOG.KEYS for p in CATALOG.BY_KEY[k].home}
    found = []
    for readme in sorted(TEMPLATE.rglob("README.md*")):
        rendered = PurePosixPath(_rendered(readme))
        owner = max((h for h in homes if _under(rendered, h)), key=lambda h: len(h.parts),
                    default=None)  # fmt: skip
        if owner is not None and homes[owner] == key:
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
    tests = _owned_tests(key)
    if tests:
        rendered = ", ".join(f"`{_owned(p)}`" for p in tests)
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
    """Publish each component's page from its module, and the changelog page."""
    strays = sorted(
        f.src_uri
        for f in files.documentation_pages()
        if PurePosixPath(f.src_uri).parent.as_posix() == "components"
        and PurePosixPath(f.src_uri).stem != "index"
    )
    if strays:
        raise PluginError(
            f"docs/{strays[0]}: a component's page lives in its module, "
            "components/<key>/docs.md; move it there"
        )
    # The modules beside the docs folder (a copy of the site in a test has its own).
    modules = Path(config.docs_dir).resolve().parent / "components"
    for component in CATALOG.COMPONENTS:
        page = modules / component.key / "docs.md"
        if not page.is_file():
            raise PluginError(
                f"components/{component.key}/docs.md is missing: every component of the "
                "catalog needs a page (copy another component's docs.md)"
            )
        files.append(
            File.generated(config, f"components/{component.key}.md", content=page.read_text())
        )
    changelog = (ROOT / "CHANGELOG.md").read_text()
    files.append(File.generated(config, "changelog.md", content=changelog))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, **_: Any) -> str:
    """Replace each ``<!-- generated: ... -->`` marker by what it names."""
    key = _component_key(page)
    if key and "facts" not in MARKER.findall(markdown):
        raise PluginError(
            f"components/{key}/docs.md has no '<!-- generated: facts -->' line: "
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
