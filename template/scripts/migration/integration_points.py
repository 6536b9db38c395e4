"""Where this repository meets the outside world, per component: system, files, variables.

A migration moves each of these connections to the organisation's platform, so the
checklist lists them: the system a component talks to, the files that configure the
connection (fnmatch patterns over the committed files: ``*`` crosses folders) and the
variables of ``.env.example`` it needs (a regular expression over their names). Every
pattern of a chosen component must match a file: a pattern that matches nothing means the
configuration is gone, or this table is out of date.

``home`` names the folders a component lives in; each must have a README.md (the
documentation item).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Integration:
    label: str
    system: str
    files: tuple[str, ...]
    env: str = ""
    home: tuple[str, ...] = ()


#: dbt comes with every repository; the others are the components of .copier-answers.yml.
ALWAYS = "dbt"
INTEGRATIONS: dict[str, Integration] = {
    "dbt": Integration(
        "dbt",
        "the warehouse dbt builds in: DuckDB locally, Snowflake with target prod",
        ("dbt/dbt_project.yml", "dbt/profiles.yml"),
        r"DBT_",
        ("dbt", "scripts/utilities", "scripts/setup", "scripts/migration", "docs", "tests"),
    ),
    "snowflake": Integration(
        "Snowflake",
        "a Snowflake account: warehouses, databases, roles and service users",
        (
            "snowflake/warehouses/*.sql",
            "snowflake/schemas/*.sql",
            "snowflake/roles/*.sql",
            "dbt/profiles.yml",
        ),
        r"SNOWFLAKE_",
        ("snowflake",),
    ),
    "permifrost": Integration(
        "Permifrost",
        "the Snowflake grants, applied by Permifrost",
        ("snowflake/permifrost/*.yml",),
        home=("snowflake/permifrost",),
    ),
    "airflow": Integration(
        "Airflow",
        "an Airflow 3 deployment running the dbt project through Cosmos",
        ("airflow/dags/*.py", "airflow/config/*", "airflow/requirements.txt"),
        home=("airflow",),
    ),
    "astronomer": Integration(
        "Astronomer",
        "an Astronomer Deployment (Astro Runtime image)",
        ("astronomer/Dockerfile", "astronomer/*.yaml", "astronomer/requirements.txt"),
        home=("astronomer",),
    ),
    "docker": Integration(
        "Docker Compose",
        "the local Compose stack: Airflow, its Postgres and the chosen services",
        ("docker-compose.yml", ".dockerignore"),
        r"POSTGRES_|AIRFLOW_UID$|AIRFLOW__API_AUTH__JWT_SECRET$",
    ),
    "great_expectations": Integration(
        "Great Expectations",
        "the quality checks of the marts, run in the warehouse",
        (
            "data_quality/great_expectations/expectations/*.json",
            "data_quality/great_expectations/checkpoints/*.json",
        ),
        home=("data_quality",),
    ),
    "looker": Integration(
        "Looker",
        "a Looker instance and its Snowflake connection",
        ("looker/*.lkml", "looker/data_sources/*.json"),
        r"LOOKER_",
        ("looker",),
    ),
    "grafana": Integration(
        "Grafana",
        "a Grafana server: dashboards, datasources and alerting",
        (
            "grafana/dashboards/*.json",
            "grafana/dashboards/dashboards.yml",
            "grafana/datasources/*.yml",
            "grafana/alerting/*.yml",
            "monitoring/grafana/grafana.ini",
        ),
        r"GF_|GRAFANA_",
        ("grafana",),
    ),
    "prometheus": Integration(
        "Prometheus",
        "Prometheus, the statsd exporter of Airflow's metrics, Alertmanager and log collection",
        (
            "monitoring/prometheus/prometheus.yml",
            "monitoring/prometheus/statsd_mapping.yml",
            "monitoring/prometheus/rules/*.yml",
            "monitoring/alerts/*.yml",
            "monitoring/logs/*.yaml",
        ),
        r"ALERTMANAGER_",
        ("monitoring",),
    ),
    "qlik": Integration(
        "Qlik Replicate",
        "Qlik Replicate tasks into the raw schema, and its Enterprise Manager API",
        ("qlik/replication_tasks/*.json", "qlik/source_mappings/*.yml", "qlik/monitoring/*.py"),
        r"QLIK_",
        ("qlik",),
    ),
    "terraform": Integration(
        "Terraform",
        "the Snowflake account, managed by Terraform",
        ("infrastructure/terraform/*.tf",),
        r"TF_",
        ("infrastructure", "infrastructure/terraform"),
    ),
    "kubernetes": Integration(
        "Kubernetes",
        "a Kubernetes cluster: what runs beside Airflow",
        ("infrastructure/kubernetes/*.y*ml",),
        r"KUBE",
        ("infrastructure", "infrastructure/kubernetes"),
    ),
    "helm": Integration(
        "Helm",
        "the Apache Airflow Helm chart on that cluster",
        ("infrastructure/helm/*.y*ml",),
        r"HELM_",
        ("infrastructure", "infrastructure/helm"),
    ),
    "ansible": Integration(
        "Ansible",
        "the hosts around the platform, provisioned by Ansible",
        ("infrastructure/ansible/*.y*ml",),
        r"ANSIBLE_",
        ("infrastructure", "infrastructure/ansible"),
    ),
    "github_actions": Integration(
        "GitHub Actions",
        "GitHub: CI, deployment and template updates",
        (".github/workflows/*.y*ml", "cicd/github-actions/*action.yml"),
        home=("cicd", "cicd/github-actions"),
    ),
    "jenkins": Integration(
        "Jenkins",
        "a Jenkins controller running the same make targets",
        ("cicd/jenkins/Jenkinsfile",),
        r"JENKINS_",
        ("cicd", "cicd/jenkins"),
    ),
    "security": Integration(
        "Security",
        "the classification policy, Snowflake masking policies and audit views (their setup SQL "
        "comes with snowflake), secret scanning",
        (
            "security/data_classification/policy.yml",
            "dbt/macros/masking_policies.sql",
            "security/pii_detection/*.py",
            "security/compliance/controls.yml",
            ".secrets.baseline",
        ),
        home=("security",),
    ),
}
#: A pattern that matches more files than this is shown as the pattern and a count.
SHOWN_FILES = 6
ENV_LINE = re.compile(r"^(?P<optional>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


@dataclass(frozen=True)
class Variable:
    name: str
    value: str
    optional: bool

    def __str__(self) -> str:
        shown = f"`{self.name}`"
        if self.optional:
            return shown + " (optional)"
        return shown + (f" (default `{self.value}`)" if self.value else "")


def env_variables(root: Path) -> list[Variable]:
    """The variables .env.example sets or shows commented out (optional ones)."""
    path = root / ".env.example"
    lines = path.read_text().splitlines() if path.is_file() else []
    return [
        Variable(m["name"], m["value"].strip(), bool(m["optional"]))
        for m in map(ENV_LINE.match, lines)
        if m
    ]


def matching(files: list[str], pattern: str) -> list[str]:
    """The committed files a pattern matches, READMEs left out."""
    return [
        name for name in files if fnmatch.fnmatchcase(name, pattern) and not name.endswith(".md")
    ]


def shown(pattern: str, found: list[str]) -> list[str]:
    """The files a pattern matched as Markdown, or the pattern and a count when they are many."""
    if len(found) > SHOWN_FILES:
        return [f"`{pattern}` ({len(found)} files)"]
    return [f"`{name}`" for name in found]


def chosen(components: list[str]) -> list[str]:
    """dbt, then the chosen components in the order of the table."""
    return [ALWAYS, *(key for key in INTEGRATIONS if key in components)]
