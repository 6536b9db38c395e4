"""Where this repository meets the outside world, per component: system, files, variables.

A migration moves each connection to the organisation's platform, so the checklist lists the
system a component talks to, the files that configure it (fnmatch patterns over the committed
files: ``*`` crosses folders; each must match one, or the configuration is gone or this table
out of date) and the variables of ``.env.example`` it needs (a regular expression over their
names). ``home`` names the folders a component lives in, each with a README.md.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import NamedTuple


class Integration(NamedTuple):
    label: str
    system: str
    files: str  # fnmatch patterns, separated by spaces
    env: str = ""
    home: str = ""  # folders, separated by spaces


#: dbt comes with every repository; the others are the components of .copier-answers.yml.
# fmt: off
INTEGRATIONS = {
    "dbt": Integration("dbt", "the warehouse dbt builds in: DuckDB locally, Snowflake with target "
        "prod", "dbt/dbt_project.yml dbt/profiles.yml", r"DBT_",
        "dbt scripts/utilities scripts/setup scripts/migration docs tests"),
    "snowflake": Integration("Snowflake", "a Snowflake account: warehouses, databases, roles and "
        "service users", "snowflake/warehouses/*.sql snowflake/schemas/*.sql "
        "snowflake/roles/*.sql dbt/profiles.yml", r"SNOWFLAKE_", "snowflake"),
    "permifrost": Integration("Permifrost", "the Snowflake grants, applied by Permifrost",
        "snowflake/permifrost/*.yml", home="snowflake/permifrost"),
    "airflow": Integration("Airflow", "an Airflow 3 deployment running the dbt project through "
        "Cosmos", "airflow/dags/*.py airflow/config/* airflow/requirements.txt", home="airflow"),
    "astronomer": Integration("Astronomer", "an Astronomer Deployment (Astro Runtime image)",
        "astronomer/Dockerfile astronomer/*.yaml astronomer/requirements.txt", home="astronomer"),
    "docker": Integration("Docker Compose", "the local Compose stack: Airflow, its Postgres and "
        "the chosen services", "docker-compose.yml .dockerignore",
        r"POSTGRES_|AIRFLOW_UID$|AIRFLOW__API_AUTH__JWT_SECRET$"),
    "great_expectations": Integration("Great Expectations", "the quality checks of the marts, run "
        "in the warehouse", "data_quality/great_expectations/expectations/*.json "
        "data_quality/great_expectations/checkpoints/*.json", home="data_quality"),
    "looker": Integration("Looker", "a Looker instance and its Snowflake connection",
        "looker/*.lkml looker/data_sources/*.json", r"LOOKER_", "looker"),
    "grafana": Integration("Grafana", "a Grafana server: dashboards, datasources and alerting",
        "grafana/dashboards/*.json grafana/dashboards/dashboards.yml grafana/datasources/*.yml "
        "grafana/alerting/*.yml monitoring/grafana/grafana.ini", r"GF_|GRAFANA_", "grafana"),
    "prometheus": Integration("Prometheus", "Prometheus, the statsd exporter of Airflow's metrics, "
        "Alertmanager and log collection", "monitoring/prometheus/prometheus.yml "
        "monitoring/prometheus/statsd_mapping.yml monitoring/prometheus/rules/*.yml "
        "monitoring/alerts/*.yml monitoring/logs/*.yaml", r"ALERTMANAGER_", "monitoring"),
    "qlik": Integration("Qlik Replicate", "Qlik Replicate tasks into the raw schema, and its "
        "Enterprise Manager API", "qlik/replication_tasks/*.json qlik/source_mappings/*.yml "
        "qlik/monitoring/*.py", r"QLIK_", "qlik"),
    "terraform": Integration("Terraform", "the Snowflake account, managed by Terraform",
        "infrastructure/terraform/*.tf", r"TF_", "infrastructure/terraform"),
    "kubernetes": Integration("Kubernetes", "a Kubernetes cluster: what runs beside Airflow",
        "infrastructure/kubernetes/*.y*ml", r"KUBE", "infrastructure/kubernetes"),
    "helm": Integration("Helm", "the Apache Airflow Helm chart on that cluster",
        "infrastructure/helm/*.y*ml", r"HELM_", "infrastructure/helm"),
    "ansible": Integration("Ansible", "the hosts around the platform, provisioned by Ansible",
        "infrastructure/ansible/*.y*ml", r"ANSIBLE_", "infrastructure/ansible"),
    "github_actions": Integration("GitHub Actions", "GitHub: CI, deployment and template updates",
        ".github/workflows/*.y*ml cicd/github-actions/*action.yml", home="cicd/github-actions"),
    "jenkins": Integration("Jenkins", "a Jenkins controller running the same make targets",
        "cicd/jenkins/Jenkinsfile", r"JENKINS_", "cicd/jenkins"),
    "security": Integration("Security", "the classification policy, Snowflake masking policies "
        "and audit views (their setup SQL comes with snowflake), secret scanning",
        "security/data_classification/policy.yml dbt/macros/masking_policies.sql "
        "security/pii_detection/*.py security/compliance/controls.yml .secrets.baseline",
        home="security"),
}
# fmt: on
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
    """dbt, then the chosen components in the order of the table."""
    return [point for key, point in INTEGRATIONS.items() if key == "dbt" or key in components]
