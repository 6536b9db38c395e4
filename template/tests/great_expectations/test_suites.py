"""The quality suites agree with the dbt catalog: a suite per mart, only columns dbt has.

Reads the definition files only (no warehouse, no Great Expectations import): the marts and
their columns from dbt/models/marts/_marts.yml, the accepted values from the dbt seeds.
"""

from __future__ import annotations

import csv
import json
from typing import Any

import pytest
import yaml
from conftest import ROOT

#: Every check here compares the Great Expectations files with the dbt project.
pytestmark = pytest.mark.coherence

GX = ROOT / "data_quality" / "great_expectations"
MARTS_YML = "dbt/models/marts/_marts.yml"
VALIDATIONS = ROOT / "data_quality" / "validations"
COLUMN_KWARGS = ("column", "column_A", "column_B")


def marts() -> dict[str, set[str]]:
    """Each mart of the dbt project with its columns."""
    models = yaml.safe_load((ROOT / "dbt" / "models" / "marts" / "_marts.yml").read_text())
    return {m["name"]: {c["name"] for c in m.get("columns", [])} for m in models["models"]}


def suites() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted((GX / "expectations").glob("*.json")):
        suite = json.loads(path.read_text())
        assert suite["name"] == path.stem, f"{path.name} holds suite {suite['name']!r}"
        found[suite["name"]] = suite
    return found


def seed(name: str) -> list[dict[str, str]]:
    with (ROOT / "dbt" / "seeds" / f"{name}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def condition_columns(condition: Any) -> set[str]:
    """Columns of a GX 1.x row condition ({"type": "comparison", "column": {"name": ...}, ...},
    nested in "and"/"or" conditions)."""
    if isinstance(condition, list):
        return set().union(*map(condition_columns, condition)) if condition else set()
    if not isinstance(condition, dict):
        return set()
    names = {condition["column"]["name"]} if isinstance(condition.get("column"), dict) else set()
    return names | set().union(*(condition_columns(v) for v in condition.values()))


def columns_named(expectation: dict[str, Any]) -> set[str]:
    kwargs = expectation["kwargs"]
    names = {kwargs[key] for key in COLUMN_KWARGS if key in kwargs}
    names |= set(kwargs.get("column_list") or [])
    return names | condition_columns(kwargs.get("row_condition"))


def value_sets(suite: dict[str, Any], column: str) -> list[dict[str, Any]]:
    return [
        e["kwargs"]
        for e in suite["expectations"]
        if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == column
    ]


def test_every_mart_has_a_suite_a_validation_and_a_place_in_the_checkpoint() -> None:
    dbt_marts = set(marts())
    assert dbt_marts, "no marts found in dbt/models/marts/_marts.yml"
    assert set(suites()) == dbt_marts, (
        f"data_quality/great_expectations/expectations/ and {MARTS_YML} disagree: suites "
        f"{sorted(set(suites()))}, marts {sorted(dbt_marts)}. Add expectations/<mart>.json for "
        "a new mart, remove the suite of a dropped one"
    )
    checkpoint = json.loads((GX / "checkpoints" / "marts.json").read_text())
    listed = [entry["name"] for entry in checkpoint["validation_definitions"]]
    assert sorted(listed) == sorted(dbt_marts), (
        f"data_quality/great_expectations/checkpoints/marts.json runs {sorted(listed)}, "
        f"{MARTS_YML} has the marts {sorted(dbt_marts)}: list every mart's validation"
    )
    for name in listed:
        validation = json.loads((VALIDATIONS / f"{name}.json").read_text())
        assert validation["name"] == name
        assert validation["suite"]["name"] == name, f"validations/{name}.json runs another suite"
        assert validation["data"]["asset"]["name"] == f"marts.{name}", (
            f"validations/{name}.json validates another table"
        )


def test_suites_name_only_columns_the_mart_has() -> None:
    columns = marts()
    unknown = [
        f"{name}.{column} ({expectation['type']})"
        for name, suite in suites().items()
        for expectation in suite["expectations"]
        for column in sorted(columns_named(expectation))
        if column not in columns.get(name, set())
    ]
    assert not unknown, (
        f"data_quality/great_expectations/expectations/ names columns that {MARTS_YML} does not "
        f"have: {unknown}. Rename them in the suite, or document the column in dbt"
    )


@pytest.mark.parametrize("kind", ["unique", "not_null"])
def test_every_key_dbt_tests_is_checked_by_its_suite(kind: str) -> None:
    models = yaml.safe_load((ROOT / "dbt" / "models" / "marts" / "_marts.yml").read_text())
    expectation = {
        "unique": "expect_column_values_to_be_unique",
        "not_null": "expect_column_values_to_not_be_null",
    }[kind]
    keys = {
        (model["name"], column["name"])
        for model in models["models"]
        for column in model.get("columns", [])
        if "unique" in (column.get("data_tests") or []) and kind in column["data_tests"]
    }
    assert keys, f"no unique keys found in {MARTS_YML}"
    checked = {
        (name, e["kwargs"]["column"])
        for name, suite in suites().items()
        for e in suite["expectations"]
        if e["type"] == expectation
    }
    assert keys <= checked, (
        f"{MARTS_YML} tests {kind} on {sorted(keys - checked)}, but their suites in "
        f"data_quality/great_expectations/expectations/ have no {expectation} for them"
    )


def test_accepted_values_are_the_seeds() -> None:
    found = suites()
    countries = seed("country_codes")
    statuses = seed("order_statuses")
    codes = {row["country_code"] for row in countries}
    expected = {
        ("dim_customers", "country_code"): ("country_codes", codes),
        ("dim_customers", "region"): ("country_codes", {r["region"] for r in countries}),
        ("fct_orders", "shipping_country_code"): ("country_codes", codes),
        ("fct_orders", "status"): ("order_statuses", {r["status"] for r in statuses}),
    }
    for (name, column), (seed_name, values) in expected.items():
        plain = [k for k in value_sets(found[name], column) if "row_condition" not in k]
        assert plain, f"{name} has no accepted values for {column}"
        assert {frozenset(k["value_set"]) for k in plain} == {frozenset(values)}, (
            f"data_quality/great_expectations/expectations/{name}.json: the accepted values of "
            f"{column} differ from dbt/seeds/{seed_name}.csv"
        )
    final = {row["status"] for row in statuses if row["is_final"] == "true"}
    conditioned = {
        (k["row_condition"]["column"]["name"], k["row_condition"]["parameter"]): set(k["value_set"])
        for k in value_sets(found["fct_orders"], "status")
        if "row_condition" in k
    }
    assert conditioned == {
        ("is_final_status", True): final,
        ("is_final_status", False): {row["status"] for row in statuses} - final,
    }, (
        "data_quality/great_expectations/expectations/fct_orders.json: is_final_status differs "
        "from dbt/seeds/order_statuses.csv"
    )
