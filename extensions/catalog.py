"""The component catalog: the one place that says what the template can render.

Each optional component is one module: ``components/<key>/component.toml`` (its
catalog entry), ``components/<key>/fragments/`` (its parts of the shared files)
and the paths it owns under ``template/``. This module reads those entries and
derives everything else from them:

* which paths a render includes: copier.yml's ``_exclude`` renders
  :func:`excluded_paths`, the paths owned by a component that is not chosen;
* the fragments a shared file includes (:func:`fragments`, in catalog order);
* the ``components`` question of ``copier.yml``, the component table of the
  template's README and the template's CI matrix, written by ``make sync``
  (``scripts/sync.py``; a test fails when one is stale);
* the template's test matrix (:func:`named_variants`, :func:`pairwise_variants`);
* the system tools each component's checks need (:func:`tools`, :func:`apt_packages`);
* where each component meets the outside world, which the rendered migration check
  lists (:func:`integrations_data`).

The module is loaded by copier from its file path (``extensions/catalog.py``),
so it imports nothing but the standard library and Jinja.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

ROOT = Path(__file__).resolve().parent.parent
COMPONENTS_DIR = ROOT / "components"
FRAGMENTS = "fragments"
#: The keys a component entry may hold; any other key is a typo and stops the load.
ENTRY_KEYS = frozenset(
    {"label", "help", "position", "default", "core", "requires", "home", "owns", "packages",
     "dev_packages", "with", "tools", "integration", "actions"}
)  # fmt: skip
TOOL_KEYS = frozenset({"command", "why", "apt", "url", "minimum", "required", "version_args"})
INTEGRATION_KEYS = frozenset({"system", "files", "env", "home"})
#: An ``[actions]`` pin: the full commit of a release tag, and that tag.
ACTION_COMMIT = re.compile(r"[0-9a-f]{40}")
ACTION_VERSION = re.compile(r"v\d+\.\d+\.\d+")


class CatalogError(ValueError):
    """A component entry is malformed; the message names the file and the fix."""


@dataclass(frozen=True)
class Tool:
    """A program a component's checks call, which ``make setup`` does not install."""

    command: str
    why: str
    apt: tuple[str, ...] = ()
    url: str = ""
    minimum: tuple[int, ...] = ()
    required: bool = True
    version_args: tuple[str, ...] = ("--version",)

    @property
    def install(self) -> str:
        return f"apt install {' '.join(self.apt)}" if self.apt else self.url


@dataclass(frozen=True)
class Integration:
    """Where a component meets the outside world: the rendered migration check lists it."""

    #: The system it talks to.
    system: str
    #: The files that configure it: fnmatch patterns over the committed files (``*`` crosses
    #: folders); the migration check fails when one matches no file.
    files: tuple[str, ...]
    #: The ``.env.example`` variables it needs: a regular expression matched against their names.
    env: str = ""
    #: The folders it lives in, each with a README.md.
    home: tuple[str, ...] = ()


@dataclass(frozen=True)
class Component:
    """One optional component of a rendered prototype."""

    key: str
    label: str
    help: str
    position: int = 0
    requires: tuple[str, ...] = ()
    #: Its own folders and files, as the README tables show them.
    home: tuple[str, ...] = ()
    #: Further paths rendered only when it is chosen (its tests, its files in shared folders).
    extra: tuple[str, ...] = ()
    default: bool = False
    #: Part of the named variant "core" (the defaults plus these).
    core: bool = False
    packages: tuple[str, ...] = ()
    dev_packages: tuple[str, ...] = ()
    #: Packages installed only when another component is chosen too: {other: packages}.
    with_packages: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tools: tuple[Tool, ...] = ()
    #: Its fragments of the shared files: {slot: template path}.
    fragments: dict[str, str] = field(default_factory=dict)
    #: Where it meets the outside world (its ``[integration]`` table).
    integration: Integration = Integration("", ())
    #: The GitHub Actions its rendered workflows use: {owner/name: (commit, version tag)}.
    actions: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def owns(self) -> tuple[str, ...]:
        """Every path (a gitignore-style pattern) rendered only when it is chosen."""
        return self.home + self.extra


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogError(f"{where} must be a list of strings")
    return tuple(value)


def _integration(point: object, where: str) -> Integration:
    """The ``[integration]`` table of an entry, checked."""
    if (
        not isinstance(point, dict)
        or set(point) - INTEGRATION_KEYS
        or not (isinstance(point.get("system"), str) and point["system"])
        or not point.get("files")
    ):
        raise CatalogError(
            f"{where}: [integration] needs system (a string) and files (a list of patterns), "
            f"and only {sorted(INTEGRATION_KEYS)}"
        )
    env = point.get("env", "")
    try:
        re.compile(env)
    except (TypeError, re.error) as error:
        raise CatalogError(
            f"{where}: [integration] env must be a regular expression over variable names: {error}"
        ) from None
    return Integration(
        system=point["system"],
        files=_strings(point["files"], f"{where}: [integration] files"),
        env=env,
        home=_strings(point.get("home", []), f"{where}: [integration] home"),
    )


def _actions(table: object, where: str) -> dict[str, tuple[str, str]]:
    """The ``[actions]`` table of an entry, checked: each action pinned to a commit and a tag."""
    if not isinstance(table, dict):
        raise CatalogError(f"{where}: [actions] must be a table of owner/name = {{...}}")
    pins = {}
    for name, pin in table.items():
        if (
            not isinstance(pin, dict)
            or set(pin) != {"commit", "version"}
            or not ACTION_COMMIT.fullmatch(str(pin["commit"]))
            or not ACTION_VERSION.fullmatch(str(pin["version"]))
        ):
            raise CatalogError(
                f'{where}: [actions] "{name}" needs commit (the 40-hex commit of a release tag) '
                "and version (that tag, vX.Y.Z), and nothing else"
            )
        pins[name] = (pin["commit"], pin["version"])
    return pins


def load_component(folder: Path) -> Component:
    """Read ``folder/component.toml`` and list the fragments beside it."""
    where = f"components/{folder.name}/component.toml"
    try:
        entry = tomllib.loads((folder / "component.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CatalogError(f"{where}: {error}") from error
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        raise CatalogError(f"{where}: unknown key {unknown[0]!r}; known: {sorted(ENTRY_KEYS)}")
    for needed in ("label", "help", "position", "home", "integration"):
        if needed not in entry:
            raise CatalogError(f"{where}: {needed!r} is missing")
    tools = []
    for number, tool in enumerate(entry.get("tools", []), 1):
        if set(tool) - TOOL_KEYS or "command" not in tool or "why" not in tool:
            raise CatalogError(
                f"{where}: tools #{number} needs command and why, and only {sorted(TOOL_KEYS)}"
            )
        tools.append(
            Tool(
                command=tool["command"],
                why=tool["why"],
                apt=tuple(tool.get("apt", ())),
                url=tool.get("url", ""),
                minimum=tuple(tool.get("minimum", ())),
                required=tool.get("required", True),
                version_args=tuple(tool.get("version_args", ("--version",))),
            )
        )
    fragment_dir = folder / FRAGMENTS
    fragments = {
        path.name.removesuffix(".jinja"): f"components/{folder.name}/{FRAGMENTS}/{path.name}"
        for path in sorted(fragment_dir.glob("*.jinja"))
    }
    return Component(
        key=folder.name,
        label=entry["label"],
        help=entry["help"],
        position=entry["position"],
        requires=_strings(entry.get("requires", []), f"{where}: requires"),
        home=_strings(entry["home"], f"{where}: home"),
        extra=_strings(entry.get("owns", []), f"{where}: owns"),
        default=bool(entry.get("default", False)),
        core=bool(entry.get("core", False)),
        packages=_strings(entry.get("packages", []), f"{where}: packages"),
        dev_packages=_strings(entry.get("dev_packages", []), f"{where}: dev_packages"),
        with_packages={
            other: _strings(spec.get("packages", []), f"{where}: with.{other}.packages")
            for other, spec in entry.get("with", {}).items()
        },
        tools=tuple(tools),
        fragments=fragments,
        integration=_integration(entry["integration"], where),
        actions=_actions(entry.get("actions", {}), where),
    )


def load_catalog(folder: Path = COMPONENTS_DIR) -> tuple[Component, ...]:
    """Every component of ``folder``, in the order of their ``position``."""
    found = [load_component(path.parent) for path in folder.glob("*/component.toml")]
    found.sort(key=lambda c: (c.position, c.key))
    keys = {c.key for c in found}
    for component in found:
        for needed in component.requires + tuple(component.with_packages):
            if needed not in keys:
                raise CatalogError(
                    f"components/{component.key}/component.toml names {needed!r}, "
                    f"which is not a component: choose from {', '.join(sorted(keys))}"
                )
    return tuple(found)


#: Paths every rendered repository has, whatever components are chosen.
ALWAYS: tuple[str, ...] = (
    ".copier-answers.yml",
    ".env.example",
    ".gitignore",
    ".pre-commit-config.yaml",
    ".secrets.baseline",
    ".yamllint.yaml",
    "Makefile",
    "QUICKSTART.md",
    "README.md",
    "dbt",
    "docs",
    "pyproject.toml",
    "scripts",
    "tests",
)
#: Python packages of every rendered repository (dbt is always on).
ALWAYS_PACKAGES: tuple[str, ...] = (
    "dbt-core==1.11.16",
    "dbt-duckdb==1.11.1",
    "duckdb==2.0.1",
)
#: detect-secrets: the secret scan of `make lint` (a pre-commit hook) in every repository.
ALWAYS_DEV_PACKAGES: tuple[str, ...] = (
    "detect-secrets==1.5.0",
    "pre-commit==4.7.0",
    "pytest==9.2.0",
    "pytest-xdist==3.8.0",
    "PyYAML==6.0.4",
)

#: The optional components, in the order they are asked.
COMPONENTS: tuple[Component, ...] = load_catalog()
BY_KEY: dict[str, Component] = {c.key: c for c in COMPONENTS}
KEYS: tuple[str, ...] = tuple(BY_KEY)
DEFAULTS: tuple[str, ...] = tuple(c.key for c in COMPONENTS if c.default)


# --------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------
def _as_list(selection: object) -> list[str]:
    if selection is None or selection == "":
        return []
    if isinstance(selection, str):
        return [selection]
    return [str(item) for item in selection]  # type: ignore[union-attr]


def closure(selection: Iterable[str]) -> tuple[str, ...]:
    """The selection plus everything it requires, in catalog order."""
    chosen = set(selection)
    stack = list(chosen)
    while stack:
        for needed in BY_KEY[stack.pop()].requires:
            if needed not in chosen:
                chosen.add(needed)
                stack.append(needed)
    return tuple(key for key in KEYS if key in chosen)


def errors(selection: object) -> list[str]:
    """Every problem with a selection of components, as messages for the user."""
    keys = _as_list(selection)
    unknown = [key for key in keys if key not in BY_KEY]
    if unknown:
        return [f"unknown component {key!r}: choose from {', '.join(KEYS)}" for key in unknown]
    problems = []
    for key in keys:
        missing = [need for need in BY_KEY[key].requires if need not in keys]
        if missing:
            problems.append(
                f"{key} requires {' and '.join(missing)}: add "
                f"{', '.join(missing)} to components, or remove {key}"
            )
    return problems


def components_error(selection: object) -> str:
    """copier validator: an empty string when the selection is valid."""
    return "; ".join(errors(selection))


def is_valid(selection: Iterable[str]) -> bool:
    return not errors(list(selection))


def deployment_target(selection: object) -> str:
    """Where the Airflow project is deployed, derived from the components."""
    keys = _as_list(selection)
    if "astronomer" in keys:
        return "astronomer"
    if "helm" in keys:
        return "kubernetes"
    if "airflow" in keys:
        return "local"
    return "none"


def packages(selection: object, dev: bool = False) -> list[str]:
    """Pinned Python packages for a selection (runtime, or the dev group)."""
    keys = [k for k in _as_list(selection) if k in BY_KEY]
    found = set(ALWAYS_DEV_PACKAGES if dev else ALWAYS_PACKAGES)
    for key in keys:
        found.update(BY_KEY[key].dev_packages if dev else BY_KEY[key].packages)
    if not dev:
        for key in keys:
            for other, extra in BY_KEY[key].with_packages.items():
                if other in keys:
                    found.update(extra)
    return sorted(found, key=str.lower)


#: What runs dbt itself: the always-on pins plus the Snowflake adapter when chosen.
DBT_PACKAGE_NAMES: tuple[str, ...] = (
    "dbt-core",
    "dbt-duckdb",
    "duckdb",
    "dbt-snowflake",
    "snowflake-connector-python",
)


def _name(pin: str) -> str:
    return re.split(r"[\[=<>~!]", pin, maxsplit=1)[0].lower()


def dbt_requirements(selection: object) -> list[str]:
    """The pins of an isolated dbt virtualenv: dbt and the chosen adapters only."""
    return [p for p in packages(selection) if _name(p) in DBT_PACKAGE_NAMES]


def airflow_requirements(selection: object) -> list[str]:
    """The pins an Airflow image installs for the DAGs: Cosmos, dbt, the chosen providers.

    Airflow itself (and what it pins, SQLAlchemy, aiohttp) comes with the image, and the
    packages no DAG imports (Permifrost, the Qlik monitor's) stay out; lkml goes in with
    looker, for the publish DAG's LookML check.
    """
    keys = [k for k in _as_list(selection) if k in BY_KEY]
    if "airflow" not in keys:
        return []
    wanted = set(DBT_PACKAGE_NAMES) | {"astronomer-cosmos", "great-expectations", "lkml"}
    for extra in BY_KEY["airflow"].with_packages.values():
        wanted |= {_name(pin) for pin in extra}
    return [p for p in packages(keys) if _name(p) in wanted]


def home_paths(selection: Iterable[str]) -> set[str]:
    """The home folders and files of the chosen components."""
    return {path for key in selection for path in BY_KEY[key].home}


def expected_paths(selection: Iterable[str]) -> set[str]:
    """Top-level entries plus every home path a rendered repo must have."""
    owned = home_paths(selection)
    return set(ALWAYS) | owned | {path.split("/")[0] for path in owned}


def _template_tree() -> tuple[list[str], list[str]]:
    """Every file under template/ by its rendered path (``.jinja`` dropped), and every folder."""
    root = ROOT / "template"
    files = sorted(
        (Path(folder) / name).relative_to(root).as_posix().removesuffix(".jinja")
        for folder, _, names in os.walk(root)
        for name in names
    )
    folders = sorted({str(parent) for f in files for parent in PurePosixPath(f).parents} - {"."})
    return files, folders


def _matches(path: str, pattern: str) -> bool:
    """Whether a rendered path is the pattern, lies below it, or matches it as a glob."""
    return path == pattern or path.startswith(pattern + "/") or fnmatch.fnmatchcase(path, pattern)


def exclusion_rules() -> list[tuple[str, list[list[str]]]]:
    """(pattern, owner sets): a path is excluded unless one of its owner sets is all chosen.

    Each owned path of a component is a rule of its own (owner set: that component),
    so a path two components own renders only when both are chosen. A folder that
    holds owned files only (``infrastructure/``) renders when one of its files does:
    its owner sets are those of its files.
    """
    rules: list[tuple[str, list[list[str]]]] = [
        (path, [[component.key]]) for component in COMPONENTS for path in component.owns
    ]
    files, folders = _template_tree()
    owners = {
        f: sorted({c.key for c in COMPONENTS for p in c.owns if _matches(f, p)}) for f in files
    }
    for folder in folders:
        below = [owners[f] for f in files if f.startswith(folder + "/")]
        if (
            below
            and all(below)
            and not any(_matches(folder, p) for c in COMPONENTS for p in c.owns)
        ):
            minimal = sorted({tuple(s) for s in below}, key=lambda s: (len(s), s))
            sets = [s for s in minimal if not any(set(o) < set(s) for o in minimal)]
            rules.append((folder, [list(s) for s in sets]))
    return rules


def excluded_paths(selection: object) -> str:
    """copier's ``_exclude`` for a selection: the paths no chosen component renders.

    One anchored gitignore pattern per line. copier.yml holds the same rules as
    plain Jinja (written by ``make sync``), because copier renders the new
    ``_exclude`` with the *previous* release's extensions during an update.
    """
    keys = set(_as_list(selection))
    return "\n".join(
        f"/{pattern}"
        for pattern, sets in exclusion_rules()
        if not any(set(needs) <= keys for needs in sets)
    )


def exclude_jinja() -> str:
    """The Jinja of copier.yml's ``_exclude`` entry: :func:`excluded_paths` in plain Jinja."""
    rules = ",\n".join(
        f"  [{json.dumps('/' + pattern)}, {json.dumps(sets)}]"
        for pattern, sets in exclusion_rules()
    )
    return (
        "{%- for pattern, sets in [\n" + rules + "\n] %}\n"
        "{%- set chosen = namespace(any=false) %}\n"
        "{%- for needs in sets if not needs | reject('in', components or []) | list %}"
        "{% set chosen.any = true %}{% endfor %}\n"
        "{%- if not chosen.any %}{{ pattern }}\n{% endif %}\n"
        "{%- endfor %}"
    )


def fragments(selection: object, slot: str) -> list[str]:
    """The fragments of ``slot`` of the chosen components, in catalog order, as include paths."""
    keys = set(_as_list(selection))
    return [c.fragments[slot] for c in COMPONENTS if c.key in keys and slot in c.fragments]


@pass_context
def slot(context: Context, shared: str, name: str) -> str:
    """The ``name`` parts of the shared file ``shared`` of the chosen components, joined.

    Each component's ``fragments/<shared>.jinja`` defines one macro per part it
    adds to the shared file (``{% macro targets() %}``); a shared file writes
    ``{{ dp_slot('Makefile', 'targets') }}`` where those parts go, and gets them
    in catalog order. Macros see the answers, as the shared file does.
    """
    parts = []
    answers = context.get_all()
    for path in fragments(context.get("components"), shared):
        module = context.environment.get_template(path).make_module(answers)
        macro = getattr(module, name, None)
        if macro is not None:
            parts.append(str(macro()))
    return "".join(parts)


def action(name: str) -> str:
    """``uses:`` of a GitHub Action, pinned: ``owner/name@<commit> # vX.Y.Z``.

    The pins live in the ``[actions]`` tables of the catalog (the github_actions component's),
    so every workflow and composite action moves with one edit there.
    """
    pins = {key: pin for c in COMPONENTS for key, pin in c.actions.items()}
    if name not in pins:
        raise CatalogError(
            f"the action {name!r} has no pin: add it to [actions] of "
            "components/github_actions/component.toml (the commit of a release tag and the tag)"
        )
    commit, version = pins[name]
    return f"{name}@{commit} # {version}"


def tools(selection: object) -> list[Tool]:
    """The system tools of the chosen components, each command once, in catalog order."""
    keys = set(_as_list(selection))
    found: dict[str, Tool] = {}
    for component in COMPONENTS:
        if component.key in keys:
            for tool in component.tools:
                found.setdefault(tool.command, tool)
    return list(found.values())


def tools_data(selection: object) -> list[dict[str, object]]:
    """The system tools of the chosen components as plain data (the rendered prerequisites)."""
    return [
        {
            "command": tool.command,
            "why": tool.why,
            "install": tool.install,
            "apt": list(tool.apt),
            "minimum": list(tool.minimum),
            "required": tool.required,
            "version_args": list(tool.version_args),
        }
        for tool in tools(selection)
    ]


def integrations_data(selection: object) -> list[dict[str, object]]:
    """The integration points of the chosen components as plain data, in catalog order (the
    rendered scripts/migration/integration_points.json)."""
    keys = set(_as_list(selection))
    return [
        {
            "key": c.key,
            "label": c.label,
            "system": c.integration.system,
            "files": list(c.integration.files),
            "env": c.integration.env,
            "home": list(c.integration.home),
        }
        for c in COMPONENTS
        if c.key in keys
    ]


def apt_packages(selection: object) -> list[str]:
    """The Debian packages that provide the chosen components' system tools."""
    return sorted({package for tool in tools(selection) for package in tool.apt})


# --------------------------------------------------------------------------
# The test matrix
# --------------------------------------------------------------------------
def named_variants() -> dict[str, tuple[str, ...]]:
    """minimal, defaults, core (the defaults and the core components), full, and each
    component alone with its requirements."""
    variants: dict[str, tuple[str, ...]] = {
        "minimal": (),
        "defaults": DEFAULTS,
        "core": closure([*DEFAULTS, *(c.key for c in COMPONENTS if c.core)]),
        "full": KEYS,
    }
    for key in KEYS:
        variants[f"only-{key}"] = closure([key])
    return variants


def valid_pairs() -> list[tuple[str, str]]:
    """Every pair of components that may be chosen together."""
    return [pair for pair in itertools.combinations(KEYS, 2) if is_valid(closure(pair))]


def _pairs_inside(variant: Iterable[str], pairs: set[tuple[str, str]]) -> int:
    members = set(variant)
    return sum(1 for a, b in pairs if a in members and b in members)


def pairwise_variants(max_seeds: int = 4) -> dict[str, tuple[str, ...]]:
    """A small set of variants in which every valid pair appears together.

    Greedy covering: each variant starts from the first uncovered pair and adds
    the component that covers the most uncovered pairs, up to ``max_seeds``
    chosen components (requirements are then added), so the variants stay
    small and a pair is seen without most of the other components around it.
    """
    uncovered = set(valid_pairs())
    variants: dict[str, tuple[str, ...]] = {}
    while uncovered:
        seeds = list(min(uncovered, key=lambda p: (KEYS.index(p[0]), KEYS.index(p[1]))))
        while len(seeds) < max_seeds:
            current = closure(seeds)
            base = _pairs_inside(current, uncovered)
            gains = {
                key: _pairs_inside(closure([*current, key]), uncovered) - base
                for key in KEYS
                if key not in current and is_valid(closure([*current, key]))
            }
            best = max(gains, key=lambda k: (gains[k], -KEYS.index(k)), default=None)
            if best is None or gains[best] <= 0:
                break
            seeds.append(best)
        variant = closure(seeds)
        uncovered -= {(a, b) for a, b in uncovered if a in variant and b in variant}
        variants[f"pairwise-{len(variants) + 1:02d}"] = variant
    return variants


# --------------------------------------------------------------------------
# Text derived from the catalog (checked against copier.yml and README.md)
# --------------------------------------------------------------------------
def requirements_sentence() -> str:
    """``a and b need x; c needs y``: the requirements, grouped by what is needed."""
    needed_by: dict[str, list[str]] = {}
    for component in COMPONENTS:
        for needed in component.requires:
            needed_by.setdefault(needed, []).append(component.key)
    parts = []
    for needed, keys in needed_by.items():
        names = keys[0] if len(keys) == 1 else f"{', '.join(keys[:-1])} and {keys[-1]}"
        parts.append(f"{names} {'needs' if len(keys) == 1 else 'need'} {needed}")
    return "; ".join(parts) + "."


def markdown_table() -> str:
    """The component table of the template's README."""
    rows = [
        "| key | component | renders | requires | default |",
        "|---|---|---|---|---|",
        "| (always) | dbt | `dbt/`, `scripts/`, `docs/`, `tests/` and the root files | | yes |",
    ]
    for c in COMPONENTS:
        owns = ", ".join(f"`{path}{'' if '.' in path else '/'}`" for path in c.home)
        requires = ", ".join(c.requires)
        rows.append(
            f"| `{c.key}` | {c.label}: {c.help} | {owns} | {requires} | "
            f"{'yes' if c.default else ''} |"
        )
    return "\n".join(rows)


# --------------------------------------------------------------------------
# copier / Jinja glue
# --------------------------------------------------------------------------
def as_dicts() -> list[dict[str, object]]:
    return [
        {
            "key": c.key,
            "label": c.label,
            "help": c.help,
            "requires": list(c.requires),
            "home": list(c.home),
            "owns": list(c.owns),
            "default": c.default,
            "packages": list(c.packages),
            "dev_packages": list(c.dev_packages),
        }
        for c in COMPONENTS
    ]


COMPONENTS_FORM = '-d \'components=["airflow", "docker"]\' (a YAML list of keys, or [] for none)'


def components_shape_error(answer: object) -> str:
    """The components answer before copier parses it: a YAML list of distinct, known keys."""
    items = answer
    if isinstance(answer, str):
        try:
            items = yaml.safe_load(answer) if answer.strip() else []
        except yaml.YAMLError:
            items = answer
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        return f"components must be a list of component keys, not {answer!r}: use {COMPONENTS_FORM}"
    if any(item not in BY_KEY for item in items):
        return components_error(items)  # names each unknown key, as the validator does
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        return f"{', '.join(repeated)} listed more than once: name each component once"
    return ""


def _guard_components_parsing() -> None:
    """copier parses a multiselect answer before any validator sees it, and answers a
    string, a number or a mapping with a bare TypeError, and an unknown key or a repeated
    one by dropping it. Check the shape first, and fail the way a validator does."""
    try:
        from copier._user_data import Question
    except ImportError:  # another copier: its own messages stand
        return
    if getattr(Question.parse_answer, "_dp_guarded", False):
        return
    parse = Question.parse_answer

    def parse_answer(self: Any, answer: Any) -> Any:
        # The check of the template being rendered: one process may load several
        # (an update renders the old release and the new one; tests render snapshots).
        env = getattr(self, "jinja_env", None)
        check = env.globals.get("dp_components_shape_error") if env is not None else None
        if self.var_name == "components" and callable(check):
            problem = check(answer)
            if problem:
                raise ValueError(f"Validation error for question 'components': {problem}")
        return parse(self, answer)

    parse_answer._dp_guarded = True  # type: ignore[attr-defined]
    Question.parse_answer = parse_answer  # type: ignore[method-assign]


class CatalogExtension(Extension):
    """Exposes the catalog to copier.yml and to the templates (prefix ``dp_``)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        _guard_components_parsing()
        environment.globals["dp_components_shape_error"] = components_shape_error
        environment.globals["dp_catalog"] = as_dicts()
        environment.globals["dp_default_components"] = list(DEFAULTS)
        environment.filters["dp_components_error"] = components_error
        environment.filters["dp_deployment_target"] = deployment_target
        environment.filters["dp_fragments"] = fragments
        environment.globals["dp_slot"] = slot
        environment.filters["dp_tools"] = tools_data
        environment.filters["dp_action"] = action
        environment.filters["dp_integrations"] = integrations_data
        environment.filters["dp_apt_packages"] = apt_packages
        environment.filters["dp_packages"] = packages
        environment.filters["dp_dbt_requirements"] = dbt_requirements
        environment.filters["dp_airflow_requirements"] = airflow_requirements
