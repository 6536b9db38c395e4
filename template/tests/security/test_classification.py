"""security/data_classification: the policy, and the rules classify.py --check enforces.

These tests build small manifests by hand (no dbt needed); tests/integration/
test_data_classification.py runs the check on this repository's own dbt project.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "security" / "data_classification"
LEVELS = ["pii", "confidential", "internal", "public"]  # strictest first


def load_classify() -> ModuleType:
    spec = importlib.util.spec_from_file_location("classify_under_test", FOLDER / "classify.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


classify = load_classify()


def column(name: str, level: str | None = None, **meta: Any) -> dict[str, Any]:
    if level is not None:
        meta["classification"] = level
    return {"name": name, "meta": {}, "config": {"meta": meta}}


def node(kind: str, name: str, path: str, columns: list[dict[str, Any]], **extra: Any) -> dict:
    return {
        "resource_type": kind,
        "name": name,
        "package_name": "shop",
        "original_file_path": path,
        "columns": {c["name"]: c for c in columns},
        "depends_on": {"nodes": extra.pop("depends_on", [])},
        "schema": extra.pop("schema", name),
        **extra,
    }


def manifest(
    mart_columns: list[dict[str, Any]] | None = None,
    staging_columns: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """raw.customers -> stg_customers -> int_customers (unclassified) -> dim_customers."""
    source = node(
        "source",
        "customers",
        "models/staging/_sources.yml",
        [
            column("customer_id", "internal"),
            column("email", "pii"),
            column("_is_deleted", "internal"),
        ],
        source_name="raw",
        schema="raw",
        identifier="customers",
    )
    staging = node(
        "model",
        "stg_customers",
        "models/staging/stg_customers.sql",
        staging_columns
        or [
            column("customer_id", "internal"),
            column("email", "pii"),
            column("is_deleted", "internal"),
        ],
        depends_on=["source.shop.raw.customers"],
        patch_path="shop://models/staging/_staging.yml",
    )
    intermediate = node(
        "model",
        "int_customers",
        "models/intermediate/int_customers.sql",
        [column("customer_id"), column("email")],
        depends_on=["model.shop.stg_customers"],
        patch_path="shop://models/intermediate/_intermediate.yml",
    )
    mart = node(
        "model",
        "dim_customers",
        "models/marts/dim_customers.sql",
        mart_columns
        if mart_columns is not None
        else [
            column("customer_id", "internal"),
            column("email", "pii"),
            column("is_deleted", "internal"),
        ],
        depends_on=["model.shop.int_customers"],
        patch_path="shop://models/marts/_marts.yml",
    )
    return {
        "metadata": {"project_name": "shop"},
        "sources": {"source.shop.raw.customers": source},
        "nodes": {
            "model.shop.stg_customers": staging,
            "model.shop.int_customers": intermediate,
            "model.shop.dim_customers": mart,
        },
    }


def problems(data: dict[str, Any], tmp_path: Path) -> list[str]:
    policy = classify.load_policy()
    return classify.check(classify.catalog(data, tmp_path), policy)


def test_policy_defines_the_four_levels_with_handling_rules() -> None:
    policy = classify.load_policy()
    levels = policy["levels"]
    assert sorted(levels, key=lambda name: -levels[name]["rank"]) == LEVELS
    for name, level in levels.items():
        for rule in ("readers", "masking", "retention", "copies", "description"):
            assert str(level.get(rule, "")).strip(), f"level {name} lacks {rule}"
    required = policy["enforcement"]["required"]
    assert {"source", "seed", "snapshot"} <= set(required["resource_types"])
    assert "models/marts" in required["model_paths"]


def test_the_policy_loader_rejects_a_level_without_a_handling_rule(tmp_path: Path) -> None:
    policy = yaml.safe_load((FOLDER / "policy.yml").read_text())
    del policy["levels"]["pii"]["masking"]
    broken = tmp_path / "policy.yml"
    broken.write_text(yaml.safe_dump(policy))
    with pytest.raises(classify.SetupError, match="masking"):
        classify.load_policy(broken)


def test_a_fully_classified_project_passes(tmp_path: Path) -> None:
    assert problems(manifest(), tmp_path) == []


def test_an_unclassified_mart_column_is_named_with_its_yaml_file(tmp_path: Path) -> None:
    data = manifest(mart_columns=[column("customer_id", "internal"), column("email")])
    found = problems(data, tmp_path)
    assert len(found) == 1, found
    assert "dim_customers.email has no classification" in found[0]
    assert "models/marts/_marts.yml" in found[0]


def test_an_unknown_level_is_named(tmp_path: Path) -> None:
    data = manifest(mart_columns=[column("customer_id", "internal"), column("email", "secret")])
    found = problems(data, tmp_path)
    assert len(found) == 1 and "'secret'" in found[0] and "pii, confidential" in found[0], found


def test_an_unclassified_source_column_is_named(tmp_path: Path) -> None:
    data = manifest()
    data["sources"]["source.shop.raw.customers"]["columns"]["phone"] = column("phone")
    found = problems(data, tmp_path)
    assert any("raw.customers.phone has no classification" in p for p in found), found


def test_a_mart_without_yaml_columns_is_reported(tmp_path: Path) -> None:
    found = problems(manifest(mart_columns=[]), tmp_path)
    assert any("dim_customers declares no columns" in p for p in found), found


def test_intermediate_models_may_stay_unclassified_and_inherit(tmp_path: Path) -> None:
    cat = classify.catalog(manifest(), tmp_path)
    rows = {f"{r['relation']}.{r['name']}": r for r in classify.rows(cat, classify.load_policy())}
    assert rows["int_customers.email"]["classification"] is None
    assert rows["int_customers.email"]["effective"] == "pii"
    assert rows["int_customers.email"]["inherited_from"] == "stg_customers.email"


def test_a_downgrade_through_an_unclassified_model_is_caught(tmp_path: Path) -> None:
    data = manifest(mart_columns=[column("customer_id", "internal"), column("email", "internal")])
    found = problems(data, tmp_path)
    assert len(found) == 1, found
    assert (
        "dim_customers.email is internal but is built from model stg_customers.email" in (found[0])
    )


def test_a_downgrade_across_the_replication_prefix_is_caught(tmp_path: Path) -> None:
    data = manifest()
    data["sources"]["source.shop.raw.customers"]["columns"]["_is_deleted"] = column(
        "_is_deleted", "confidential"
    )
    found = problems(data, tmp_path)
    assert any("stg_customers.is_deleted is internal" in p for p in found), found


def test_a_documented_downgrade_passes(tmp_path: Path) -> None:
    reason = "hashed with a secret salt: no longer identifies anyone"
    mart = [
        column("customer_id", "internal"),
        column("email", "internal", declassified_because=reason),
    ]
    assert problems(manifest(mart_columns=mart), tmp_path) == []


def test_seed_columns_missing_from_the_yaml_are_reported(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "countries.csv").write_text(
        "code,name,contact_email\nUS,United States,x\n"
    )
    data = manifest()
    data["nodes"]["seed.shop.countries"] = node(
        "seed",
        "countries",
        "seeds/countries.csv",
        [column("code", "public"), column("name", "public")],
        patch_path="shop://seeds/_seeds.yml",
    )
    found = problems(data, tmp_path)
    assert len(found) == 1 and "seed countries.contact_email" in found[0], found
    assert "seeds/_seeds.yml" in found[0]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DBT_TARGET_PATH", "DBT_PROJECT_DIR"}}
    return subprocess.run(
        [sys.executable, str(FOLDER / "classify.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_without_a_manifest_exits_2_saying_to_parse(tmp_path: Path) -> None:
    (tmp_path / "dbt").mkdir()
    result = run_cli("--check", "--project-dir", str(tmp_path / "dbt"), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "dbt parse" in result.stderr


def test_cli_refuses_a_manifest_older_than_the_yaml(tmp_path: Path) -> None:
    project = tmp_path / "dbt"
    (project / "target").mkdir(parents=True)
    target = project / "target" / "manifest.json"
    target.write_text(json.dumps(manifest()))
    old = time.time() - 60
    os.utime(target, (old, old))
    (project / "models").mkdir()
    (project / "models" / "_marts.yml").write_text("models: []\n")
    result = run_cli("--check", "--project-dir", str(project), cwd=tmp_path)
    assert result.returncode == 2 and "is older than" in result.stderr, result.stderr
    result = run_cli("--check", "--project-dir", str(project), "--allow-stale", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_cli_check_exits_1_listing_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    data = manifest(mart_columns=[column("customer_id"), column("email", "secret")])
    path.write_text(json.dumps(data))
    result = run_cli(
        "--check", "--manifest", str(path), "--project-dir", str(tmp_path), cwd=tmp_path
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "dim_customers.customer_id has no classification" in result.stderr
    assert "dim_customers.email has the unknown classification 'secret'" in result.stderr


def test_cli_writes_the_list_as_markdown_and_json(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest()))
    common = ("--manifest", str(path), "--project-dir", str(tmp_path))
    assert (
        run_cli(*common, "--output", str(tmp_path / "out" / "columns.md"), cwd=tmp_path).returncode
        == 0
    )
    markdown = (tmp_path / "out" / "columns.md").read_text()
    assert "| model | `dim_customers.email` | pii |" in markdown
    assert (
        run_cli(*common, "--output", str(tmp_path / "columns.json"), cwd=tmp_path).returncode == 0
    )
    listed = json.loads((tmp_path / "columns.json").read_text())
    assert {(r["relation"], r["name"], r["effective"]) for r in listed} >= {
        ("raw.customers", "email", "pii"),
        ("int_customers", "email", "pii"),
    }


def test_staging_classification_agrees_with_the_sources() -> None:
    """The staging YAML repeats each source column's level (renamed load columns too)."""
    sources = yaml.safe_load((ROOT / "dbt" / "models" / "staging" / "_sources.yml").read_text())
    staging = yaml.safe_load((ROOT / "dbt" / "models" / "staging" / "_staging.yml").read_text())
    level_of = {
        (table["name"], c["name"].lstrip("_")): c["config"]["meta"]["classification"]
        for source in sources["sources"]
        for table in source["tables"]
        for c in table["columns"]
    }
    disagreements = []
    for model in staging["models"]:
        table = model["name"].removeprefix("stg_")
        for c in model["columns"]:
            level = ((c.get("config") or {}).get("meta") or {}).get("classification")
            expected = level_of.get((table, c["name"]))
            if expected is not None and level != expected:
                disagreements.append(f"{model['name']}.{c['name']}: {level} (source: {expected})")
    assert not disagreements, disagreements
