"""The catalog (components/*/component.toml) is the one source: what it decides is generated.

copier.yml's choices and help, the README table and the CI matrix are written by
`make sync` (scripts/sync.py); these tests fail when one is stale, and check the
rules the catalog applies (requirements, owned paths, exclusions, fragments).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from catalog import (
    BY_KEY,
    COMPONENTS,
    DEFAULTS,
    KEYS,
    CatalogError,
    Integration,
    airflow_requirements,
    closure,
    dbt_requirements,
    errors,
    integrations_data,
    load_component,
    markdown_table,
    named_variants,
    packages,
    requirements_sentence,
)
from copier._template import load_template_config

ROOT = Path(__file__).resolve().parent.parent
SYNC = ROOT / "scripts" / "sync.py"


def copier_config() -> dict:
    return load_template_config(ROOT / "copier.yml")


def test_every_component_folder_is_in_the_catalog() -> None:
    folders = sorted(p.name for p in (ROOT / "components").iterdir() if p.is_dir())
    assert folders == sorted(KEYS), "a folder of components/ has no component.toml"
    positions = [c.position for c in COMPONENTS]
    assert len(set(positions)) == len(positions), "two components share a position"


def test_generated_files_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(SYNC), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_stale_generated_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sync

    stale = tmp_path / "README.md"
    stale.write_text((ROOT / "README.md").read_text().replace(f"| `{KEYS[-1]}` |", "| `stale` |"))
    monkeypatch.setattr(sync, "README", stale)
    monkeypatch.setattr(sync, "ROOT", tmp_path)
    monkeypatch.setattr(sync, "targets", lambda: {stale: sync.readme})
    assert sync.main(["--check"]) == 1
    assert sync.main([]) == 0
    assert f"| `{KEYS[-1]}` |" in stale.read_text()


def test_copier_choices_come_from_the_catalog() -> None:
    question = copier_config()["components"]
    assert question["multiselect"] is True
    assert question["choices"] == {c.label: c.key for c in COMPONENTS}, (
        "copier.yml components.choices must list the catalog's labels and keys, in order"
    )
    assert question["default"] == "{{ dp_default_components }}"
    assert question["validator"] == "{{ components | dp_components_error }}"


def test_copier_help_states_the_catalog_requirements() -> None:
    help_text = " ".join(copier_config()["components"]["help"].split())
    assert requirements_sentence() in help_text


def test_every_question_has_type_and_help() -> None:
    questions = {k: v for k, v in copier_config().items() if not k.startswith("_")}
    assert {"project_name", "description", "owner", "python_version", "components"} <= set(
        questions
    )
    for name, question in questions.items():
        assert question.get("type"), f"{name} has no type"
        assert question.get("help"), f"{name} has no help"


def test_readme_component_table_is_the_catalog() -> None:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- components:start -->\n(.*?)\n<!-- components:end -->", readme, re.S)
    assert match, "README.md lacks the <!-- components:start/end --> markers"
    assert match.group(1).strip() == markdown_table(), (
        "README.md's component table differs from the catalog; replace it with "
        'the output of: python -c \'import sys; sys.path.insert(0, "extensions"); '
        "import catalog; print(catalog.markdown_table())'"
    )


def test_requirements_exist_and_have_no_cycle() -> None:
    for component in COMPONENTS:
        for needed in component.requires:
            assert needed in KEYS
            assert component.key not in closure([needed]), f"{component.key} <-> {needed}"


def test_owned_paths_are_disjoint() -> None:
    seen: dict[str, str] = {}
    for component in COMPONENTS:
        for path in component.home:
            assert path not in seen, f"{path} owned by {seen.get(path)} and {component.key}"
            seen[path] = component.key


def test_nested_paths_require_their_parent_owner() -> None:
    """A path inside another component's folder needs that component."""
    owner = {path: c.key for c in COMPONENTS for path in c.home}
    for component in COMPONENTS:
        for path in component.home:
            parent = path.rsplit("/", 1)[0] if "/" in path else None
            if parent in owner:
                assert owner[parent] in closure([component.key])


def test_validator_rules() -> None:
    assert errors([]) == []
    assert errors(list(KEYS)) == []
    assert errors(["helm"]) == [
        "helm requires kubernetes: add kubernetes to components, or remove helm"
    ]
    assert errors(["grafana", "airflow"]) == [
        "grafana requires prometheus: add prometheus to components, or remove grafana"
    ]
    assert errors(["spark"])[0].startswith("unknown component 'spark'")
    for variant in named_variants().values():
        assert errors(list(variant)) == []


def test_named_variants() -> None:
    variants = named_variants()
    assert variants["minimal"] == ()
    assert variants["defaults"] == DEFAULTS
    assert variants["full"] == KEYS
    assert {f"only-{key}" for key in KEYS} <= set(variants)
    assert variants["core"] == closure([*DEFAULTS, *(c.key for c in COMPONENTS if c.core)])
    assert set(variants["defaults"]) < set(variants["core"]) < set(KEYS)
    assert len(variants) == 4 + len(KEYS)


def test_image_and_dbt_requirements_are_subsets_of_the_pins() -> None:
    everything = list(KEYS)
    pins = set(packages(everything))
    airflow = airflow_requirements(everything)
    dbt = dbt_requirements(everything)
    assert set(airflow) <= pins and set(dbt) <= pins
    names = {pin.split("==")[0] for pin in airflow}
    assert "astronomer-cosmos" in names and "dbt-core" in names
    # The image brings Airflow; packages no DAG imports stay out; lkml goes in with looker
    # (the publish DAG's LookML check), and only then.
    assert not names & {"apache-airflow", "permifrost", "pre-commit", "pytest"}
    assert "lkml" in names
    without_looker = {pin.split("==")[0] for pin in airflow_requirements(["airflow"])}
    assert "lkml" not in without_looker
    assert {pin.split("==")[0] for pin in dbt} == {
        "dbt-core",
        "dbt-duckdb",
        "dbt-snowflake",
        "duckdb",
        "snowflake-connector-python",
    }
    assert airflow_requirements(["snowflake"]) == []
    assert "dbt-snowflake==1.12.4" not in dbt_requirements(["airflow"])


def test_integration_points_come_from_the_entries() -> None:
    assert BY_KEY["docker"].integration == Integration(
        system="the local Compose stack: Airflow, its Postgres and the chosen services",
        files=("docker-compose.yml", ".dockerignore"),
        env="POSTGRES_|AIRFLOW_UID$|AIRFLOW__API_AUTH__JWT_SECRET$",
    )
    assert BY_KEY["snowflake"].integration.home == ("snowflake",)
    assert integrations_data([]) == []
    chosen = integrations_data(["security", "docker", "airflow"])
    assert [p["key"] for p in chosen] == ["airflow", "docker", "security"], "catalog order"
    assert chosen[1] == {
        "key": "docker",
        "label": "Docker Compose",
        "system": BY_KEY["docker"].integration.system,
        "files": ["docker-compose.yml", ".dockerignore"],
        "env": "POSTGRES_|AIRFLOW_UID$|AIRFLOW__API_AUTH__JWT_SECRET$",
        "home": [],
    }


ENTRY = """label = "Toy"
help = "A toy."
position = 1
home = ["toy"]
"""


@pytest.mark.parametrize(
    ("integration", "message"),
    [
        ("", "'integration' is missing"),
        ('integration = "toy"', "[integration] needs system (a string) and files"),
        ('[integration]\nsystem = "a toy"', "[integration] needs system (a string) and files"),
        ('[integration]\nsystem = "a toy"\nfiles = ["toy/*"]\nfile = ["x"]', "and only ["),
        ('[integration]\nsystem = "a toy"\nfiles = "toy/*"', "[integration] files must be a"),
        ('[integration]\nsystem = "a toy"\nfiles = ["toy/*"]\nhome = "toy"', "home must be a"),
        ("[integration]\nsystem = 'a toy'\nfiles = ['toy/*']\nenv = 'TOY_('", "env must be a"),
    ],
)
def test_a_malformed_integration_names_the_file(
    tmp_path: Path, integration: str, message: str
) -> None:
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "component.toml").write_text(ENTRY + integration + "\n")
    with pytest.raises(CatalogError) as error:
        load_component(folder)
    assert str(error.value).startswith("components/toy/component.toml: "), error.value
    assert message in str(error.value), error.value


def test_a_well_formed_integration_loads(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "component.toml").write_text(
        ENTRY + '[integration]\nsystem = "a toy"\nfiles = ["toy/*.yml"]\n'
    )
    assert load_component(folder).integration == Integration("a toy", ("toy/*.yml",))
