"""The LookML agrees with dbt and with itself: tables, columns, joins, dashboards, connection."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import lkml
import pytest
from conftest import require
from lookml_project import (
    check_dashboards,
    check_explores,
    check_views_against_dbt,
    dbt_parse,
    generate,
    load,
)

pytestmark = pytest.mark.coherence


@pytest.fixture(scope="module")
def manifest(root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    require(shutil.which("dbt") is not None, "dbt")
    return dbt_parse(root / "dbt", tmp_path_factory.mktemp("dbt"))


def test_committed_lookml_is_what_make_looker_generates(
    root: Path, manifest: dict, tmp_path: Path
) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    looker = root / "looker"
    result = generate(looker / "generate_lookml.py", tmp_path / "manifest.json", looker, "--check")
    assert result.returncode == 0, result.stderr


def test_the_check_names_a_stale_view_and_the_fix(
    root: Path, manifest: dict, tmp_path: Path
) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    looker = tmp_path / "looker"
    shutil.copytree(root / "looker", looker)
    view = next((looker / "views" / "generated").glob("*.view.lkml"))
    view.write_text(view.read_text() + "# edited by hand\n")
    (looker / "views" / "generated" / "ghost.view.lkml").write_text("view: ghost {}\n")
    result = generate(looker / "generate_lookml.py", tmp_path / "manifest.json", looker, "--check")
    assert result.returncode == 1, result.stdout
    assert f"changed or new: views/generated/{view.name}" in result.stderr
    assert "no longer generated: views/generated/ghost.view.lkml" in result.stderr
    assert "Run `make looker`" in result.stderr
    assert "# edited by hand" in view.read_text(), "--check must not rewrite the project"


def test_every_view_reads_a_mart_and_its_columns(root: Path, manifest: dict) -> None:
    problems = check_views_against_dbt(load(root / "looker"), manifest)
    assert not problems, "\n".join(problems)


def test_a_view_reading_an_unknown_column_is_rejected(
    root: Path, manifest: dict, tmp_path: Path
) -> None:
    folder = tmp_path / "looker"
    shutil.copytree(root / "looker", folder)
    refinement = folder / "views" / "refinements" / "broken.view.lkml"
    refinement.write_text(
        "view: +fct_orders {\n  dimension: coupon { sql: ${TABLE}.COUPON_CODE ;; }\n}\n"
    )
    (folder / "views" / "generated" / "ghost.view.lkml").write_text(
        "view: ghost {\n  sql_table_name: @{database}.MARTS.GHOST ;;\n}\n"
    )
    problems = "\n".join(check_views_against_dbt(load(folder), manifest))
    assert "looker/views/refinements/broken.view.lkml" in problems
    assert "COUPON_CODE" in problems and "dbt/models/marts/fct_orders.sql" in problems
    assert "MARTS.GHOST" in problems


def test_every_join_names_fields_that_exist(root: Path) -> None:
    project = load(root / "looker")
    joined = [aliases for _, aliases, sql_on in project.explores.values() if sql_on]
    assert joined, "no explore of looker/explores/ joins another mart: run `make looker`"
    problems = check_explores(project)
    assert not problems, "\n".join(problems)


def test_a_join_on_a_missing_field_is_rejected(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "looker"
    shutil.copytree(root / "looker", folder)
    explore = folder / "explores" / "generated" / "fct_orders.explore.lkml"
    explore.write_text(
        explore.read_text().replace("${dim_customers.customer_id}", "${dim_customers.id}")
    )
    problems = check_explores(load(folder))
    assert any("dim_customers.id" in p and "fct_orders.explore.lkml" in p for p in problems)


def test_dashboards_use_explores_and_fields_that_exist(root: Path) -> None:
    project = load(root / "looker")
    assert project.dashboards, "looker/dashboards/ holds no LookML dashboard"
    problems = check_dashboards(project)
    assert not problems, "\n".join(problems)


def test_a_dashboard_on_a_missing_field_is_rejected(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "looker"
    shutil.copytree(root / "looker", folder)
    dashboard = next((folder / "dashboards").glob("*.dashboard.lookml"))
    dashboard.write_text(dashboard.read_text().replace("fct_orders.count", "fct_orders.revenue"))
    problems = check_dashboards(load(folder))
    assert any("fct_orders.revenue" in p for p in problems)


def statements(path: Path) -> str:
    """A Snowflake script without comments, on one line per statement."""
    text = "\n".join(line.split("--")[0] for line in path.read_text().splitlines())
    return " ".join(text.split()).lower()


def test_connection_is_the_models_and_the_read_only_reporter(root: Path) -> None:
    definition = root / "looker" / "data_sources" / "snowflake_connection.json"
    connection = json.loads(definition.read_text())
    models = load(root / "looker").models
    for name, model in models.items():
        assert model.get("connection") == connection["name"], (
            f"looker/models/{name}.model.lkml uses connection {model.get('connection')!r} but "
            f"{definition.relative_to(root)} defines {connection['name']!r}: run `make looker`"
        )
    params = dict(p.split("=", 1) for p in connection["jdbc_additional_params"].split("&"))
    role, warehouse = params["role"].lower(), params["warehouse"].lower()
    snowflake = root / "snowflake"
    roles, grants = (
        statements(snowflake / "roles/01_roles.sql"),
        statements(snowflake / "roles/02_grants.sql"),
    )
    users, prod = (
        statements(snowflake / "roles/03_users.sql"),
        statements(snowflake / "schemas/prod.sql"),
    )
    database = connection["database"].lower()
    where = f"{definition.relative_to(root)} and snowflake/"
    assert f"create role if not exists {role} " in roles, (
        f"{where}: no role {role} in roles/01_roles.sql"
    )
    access = re.findall(rf"grant role (\w+) to role {role};", grants)
    assert access and all(a.endswith("_ro") for a in access), (
        f"{where}: role {role} must be read-only, but roles/02_grants.sql grants it {access}: "
        "use the reporter role"
    )
    reads = f"_{database.rsplit('_', 1)[-1]}_{connection['schema'].lower()}_ro"
    assert any(a.endswith(reads) for a in access), (
        f"{where}: role {role} does not read {connection['database']}.{connection['schema']}"
    )
    assert f"on warehouse {warehouse} to role {role}" in grants, (
        f"{where}: {role} cannot use {warehouse}"
    )
    assert f"grant role {role} to user {connection['username'].lower()};" in users, (
        f"{where}: user {connection['username']} does not hold {role} in roles/03_users.sql"
    )
    assert f"create database if not exists {database} " in prod
    assert f"create schema if not exists {database}.{connection['schema'].lower()} " in prod, (
        f"{where}: schemas/prod.sql creates no {connection['database']}.{connection['schema']}"
    )
    constants = lkml.load((root / "looker" / "manifest.lkml").read_text())["constants"]
    assert {c["name"]: c["value"] for c in constants}["database"] == connection["database"], (
        f"looker/manifest.lkml's constant database differs from {definition.relative_to(root)}: "
        "make them the same database"
    )
    assert "password" not in connection or connection["password"].startswith("${"), (
        f"{definition.relative_to(root)} holds a secret: use a ${{LOOKER_SNOWFLAKE_...}} variable"
    )
