#!/usr/bin/env python3
"""Run the Great Expectations checkpoint of the marts and report what failed.

The definitions are data files next to this script, in Great Expectations 1.x shape:

- ``expectations/<mart>.json``: one expectation suite per mart of ``dbt/models/marts``;
- ``../validations/<mart>.json``: validation definitions, which suite runs on which table
  (the asset name is ``<schema>.<table>``) through which batch definition;
- ``checkpoints/marts.json``: the checkpoint, its validation definitions, result format and
  actions (``update_data_docs`` writes the Data Docs site ``reports``).

Each run builds an ephemeral GX context from those files, reads every mart into a pandas
DataFrame (DuckDB for the dbt targets dev and ci, Snowflake for prod, with the environment
variables dbt's prod profile uses), validates it and writes the result JSON to
``<report dir>/results/`` and the Data Docs to ``<report dir>/data_docs/index.html``
(``data_quality/reports/`` unless told otherwise).

The suites may use these parameters (``{"$PARAMETER": "..."}``), computed at each run:
``now_utc`` (naive UTC, like the warehouse's loaded_at columns), ``raw_<table>_rows`` and
``raw_<table>_loaded_at`` (row count and newest ``_loaded_at`` of ``raw.<table>``).

Usage: checkpoint.py [--database PATH] [--target dev] [--report-dir DIR]
Exit status: 0 every expectation passed, 1 some failed (listed), 2 a setup problem (the
warehouse or a mart is missing, a definition file is broken): the message says what to do.
Airflow and the tests call ``run_checkpoint()``, which returns the summary as a dict.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA_QUALITY = HERE.parent
SUITES_DIR = HERE / "expectations"
CHECKPOINT_FILE = HERE / "checkpoints" / "marts.json"
VALIDATIONS_DIR = DATA_QUALITY / "validations"
DEFAULT_REPORT_DIR = DATA_QUALITY / "reports"

DATASOURCE = "warehouse"
BATCH_DEFINITION = "whole_table"
DOCS_SITE = "reports"
DUCKDB_TARGETS = ("dev", "ci")
SNOWFLAKE_TARGETS = ("prod",)
RAW_SCHEMA = "raw"
#: Environment variables of dbt's prod profile (dbt/profiles.yml), the passphrase optional.
SNOWFLAKE_ENV = (
    "SNOWFLAKE_ACCOUNT",
    "SNOWFLAKE_USER",
    "SNOWFLAKE_PRIVATE_KEY_PATH",
    "SNOWFLAKE_ROLE",
    "SNOWFLAKE_WAREHOUSE",
    "SNOWFLAKE_DATABASE",
)
RAW_PARAMETER = re.compile(r"\braw_([a-z][a-z0-9_]*?)_(rows|loaded_at)\b")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SETUP_HINT = "run `make demo` (or `dbt build`) first"


class QualityError(Exception):
    """A setup problem (not a failed expectation): the message names it and the fix."""


# --------------------------------------------------------------------------- definitions


def read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise QualityError(f"{path} is missing: restore it from git") from error
    except json.JSONDecodeError as error:
        raise QualityError(f"{path} is not valid JSON ({error}): fix the file") from error
    if not isinstance(document, dict) or not isinstance(document.get("name"), str):
        raise QualityError(f'{path} needs a JSON object with a "name": fix the file')
    return document


def load_definitions() -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The checkpoint, its validation definitions (in its order) and their suites, as dicts."""
    checkpoint = read_json(CHECKPOINT_FILE)
    names = [entry.get("name") for entry in checkpoint.get("validation_definitions") or []]
    if not names or not all(isinstance(name, str) for name in names):
        raise QualityError(
            f"{CHECKPOINT_FILE} lists no validation definitions: name them as "
            '[{"name": "<file in data_quality/validations without .json>"}, ...]'
        )
    validations, suites = [], {}
    for name in names:
        validation = read_json(VALIDATIONS_DIR / f"{name}.json")
        data, suite = validation.get("data") or {}, validation.get("suite") or {}
        source = (data.get("datasource") or {}).get("name")
        asset = (data.get("asset") or {}).get("name", "")
        batch = (data.get("batch_definition") or {}).get("name")
        parts = asset.split(".")
        if (
            validation["name"] != name
            or source != DATASOURCE
            or batch != BATCH_DEFINITION
            or len(parts) != 2
            or not all(IDENTIFIER.match(part) for part in parts)
            or not suite.get("name")
        ):
            raise QualityError(
                f"{VALIDATIONS_DIR / name}.json needs its file name as name, datasource "
                f"{DATASOURCE!r}, an asset named <schema>.<table>, batch_definition "
                f"{BATCH_DEFINITION!r} and a suite name: compare it with the other files there"
            )
        document = read_json(SUITES_DIR / f"{suite['name']}.json")
        if document["name"] != suite["name"] or not document.get("expectations"):
            raise QualityError(
                f"{SUITES_DIR / suite['name']}.json must be suite {suite['name']!r} with "
                "expectations: its name must match the file name"
            )
        validations.append(validation)
        suites[suite["name"]] = document
    return checkpoint, validations, suites


def raw_tables_used(suites: dict[str, dict[str, Any]]) -> list[str]:
    """The raw tables whose counts or load times the suites' parameters name."""
    text = json.dumps([suite["expectations"] for suite in suites.values()])
    return sorted({match.group(1) for match in RAW_PARAMETER.finditer(text)})


def schema_name(schema: str) -> str:
    """The schema dbt builds a custom schema into (dbt/macros/generate_schema_name.sql)."""
    prefix = os.environ.get("DBT_SCHEMA_PREFIX", "").strip()
    return f"{prefix}_{schema}" if prefix and schema != RAW_SCHEMA else schema


# --------------------------------------------------------------------------- warehouses


class DuckDBWarehouse:
    """The local warehouse file, opened read-only (dbt must not be writing it meanwhile)."""

    def __init__(self, database: Path) -> None:
        import duckdb

        self.where = str(database)
        try:
            self.connection = duckdb.connect(str(database), read_only=True)
        except duckdb.Error as error:
            raise QualityError(
                f"cannot open {database} ({str(error).splitlines()[0]}): wait until dbt or the "
                "generator has finished with it, then run the checks again"
            ) from error

    def tables(self, schema: str) -> set[str]:
        rows = self.connection.execute(
            "select table_name from information_schema.tables where table_schema = ?", [schema]
        ).fetchall()
        return {row[0].lower() for row in rows}

    def frame(self, schema: str, table: str) -> Any:
        return self.connection.execute(f"select * from {schema}.{table}").df()

    def raw_stats(self, table: str) -> tuple[int, datetime | None]:
        sql = f"select count(*), max(_loaded_at) from {RAW_SCHEMA}.{table}"
        rows, loaded_at = self.connection.execute(sql).fetchone()
        return int(rows), loaded_at

    def close(self) -> None:
        self.connection.close()


class SnowflakeWarehouse:
    """The prod database on Snowflake, with key-pair authentication like dbt's prod profile."""

    def __init__(self) -> None:
        missing = [name for name in SNOWFLAKE_ENV if not os.environ.get(name)]
        if missing:
            raise QualityError(
                f"target prod needs {', '.join(missing)}: set them as for dbt (see .env.example)"
            )
        try:
            import snowflake.connector
        except ImportError as error:
            raise QualityError(
                "target prod needs snowflake-connector-python: choose the snowflake component "
                "(`copier update`) or `uv add snowflake-connector-python`"
            ) from error
        self.where = f"{os.environ['SNOWFLAKE_ACCOUNT']}/{os.environ['SNOWFLAKE_DATABASE']}"
        try:
            self.connection = snowflake.connector.connect(
                account=os.environ["SNOWFLAKE_ACCOUNT"],
                user=os.environ["SNOWFLAKE_USER"],
                private_key_file=os.environ["SNOWFLAKE_PRIVATE_KEY_PATH"],
                private_key_file_pwd=os.environ.get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE") or None,
                role=os.environ["SNOWFLAKE_ROLE"],
                warehouse=os.environ["SNOWFLAKE_WAREHOUSE"],
                database=os.environ["SNOWFLAKE_DATABASE"],
                client_session_keep_alive=False,
            )
        except snowflake.connector.Error as error:
            raise QualityError(
                f"cannot connect to Snowflake {self.where} ({error}): check the SNOWFLAKE_* "
                "variables with `dbt debug --target prod`"
            ) from error

    def _query(self, sql: str, *params: Any) -> Any:
        cursor = self.connection.cursor()
        cursor.execute(sql, params or None)
        return cursor

    def tables(self, schema: str) -> set[str]:
        cursor = self._query(
            "select table_name from information_schema.tables where table_schema = %s",
            schema.upper(),
        )
        return {row[0].lower() for row in cursor.fetchall()}

    def frame(self, schema: str, table: str) -> Any:
        import pandas as pd

        cursor = self._query(f"select * from {schema}.{table}")
        columns = [column[0].lower() for column in cursor.description]
        frame = pd.DataFrame(cursor.fetchall(), columns=columns)
        for column, meta in zip(columns, cursor.description, strict=True):
            if meta.type_code == 0 and meta.scale:  # NUMBER(p, s>0) arrives as Decimal
                frame[column] = frame[column].astype("float64")
        return frame

    def raw_stats(self, table: str) -> tuple[int, datetime | None]:
        sql = f"select count(*), max(_loaded_at) from {RAW_SCHEMA}.{table}"
        rows, loaded_at = self._query(sql).fetchone()
        return int(rows), loaded_at

    def close(self) -> None:
        self.connection.close()


Warehouse = DuckDBWarehouse | SnowflakeWarehouse


def open_warehouse(database: str | Path | None, target: str) -> Warehouse:
    if target in SNOWFLAKE_TARGETS:
        return SnowflakeWarehouse()
    if target not in DUCKDB_TARGETS:
        choices = ", ".join((*DUCKDB_TARGETS, *SNOWFLAKE_TARGETS))
        raise QualityError(f"unknown target {target!r}: use one of {choices} (dbt's targets)")
    database = database or os.environ.get("DBT_DUCKDB_PATH")
    if not database:
        raise QualityError(
            "no warehouse given: pass --database PATH or set DBT_DUCKDB_PATH "
            "(`make quality` sets it)"
        )
    path = Path(database).expanduser().resolve()
    if not path.is_file():
        raise QualityError(f"no warehouse at {path}: {SETUP_HINT}")
    return DuckDBWarehouse(path)


def read_marts(
    warehouse: Warehouse,
    validations: list[dict[str, Any]],
    raw_tables: list[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The DataFrame of each validation definition's table and the suites' parameters."""
    wanted = {}
    for validation in validations:
        schema, table = validation["data"]["asset"]["name"].split(".")
        wanted[validation["name"]] = (schema_name(schema), table)
    missing = [
        f"{schema}.{table}"
        for schema, table in wanted.values()
        if table.lower() not in warehouse.tables(schema)
    ]
    missing += [
        f"{RAW_SCHEMA}.{table}" for table in raw_tables if table not in warehouse.tables(RAW_SCHEMA)
    ]
    if missing:
        raise QualityError(f"{', '.join(missing)} missing in {warehouse.where}: {SETUP_HINT}")
    parameters: dict[str, Any] = {"now_utc": datetime.now(UTC).replace(tzinfo=None)}
    for table in raw_tables:
        rows, loaded_at = warehouse.raw_stats(table)
        parameters[f"raw_{table}_rows"], parameters[f"raw_{table}_loaded_at"] = rows, loaded_at
    frames = {name: warehouse.frame(schema, table) for name, (schema, table) in wanted.items()}
    return frames, parameters


# --------------------------------------------------------------------------- validation


def gx_context(report_dir: Path) -> Any:
    """An in-memory GX context whose only Data Docs site is <report_dir>/data_docs."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(report_dir / "data_docs"),
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        data_docs_sites={DOCS_SITE: site},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def validate(
    checkpoint_doc: dict[str, Any],
    validations: list[dict[str, Any]],
    suites: dict[str, dict[str, Any]],
    frames: dict[str, Any],
    parameters: dict[str, Any],
    report_dir: Path,
) -> tuple[Any, dict[str, float]]:
    """Run every validation definition on its DataFrame, then the checkpoint's actions."""
    import great_expectations as gx
    from great_expectations.checkpoint.actions import ActionContext
    from great_expectations.checkpoint.checkpoint import CheckpointResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )
    from great_expectations.exceptions import SuiteParameterError
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    context = gx_context(report_dir)
    datasource = context.data_sources.add_pandas(DATASOURCE)
    definitions = []
    for validation in validations:
        suite_doc = suites[validation["suite"]["name"]]
        expectations = []
        for position, entry in enumerate(suite_doc["expectations"], 1):
            try:
                expectations.append(ExpectationConfiguration(**entry).to_domain_obj())
            except Exception as error:  # GX raises several kinds for a bad configuration
                raise QualityError(
                    f"{SUITES_DIR / suite_doc['name']}.json, expectation {position} "
                    f"({entry.get('type')}): {error}: fix it (see the GX expectation gallery)"
                ) from error
        suite = context.suites.add(
            gx.ExpectationSuite(
                name=suite_doc["name"],
                expectations=expectations,
                meta=suite_doc.get("meta"),
                notes=suite_doc.get("notes"),
            )
        )
        asset = datasource.add_dataframe_asset(validation["data"]["asset"]["name"])
        batch = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION)
        definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(name=validation["name"], data=batch, suite=suite)
            )
        )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=checkpoint_doc["name"],
            validation_definitions=definitions,
            actions=checkpoint_doc.get("actions") or [],
            result_format=checkpoint_doc.get("result_format") or "SUMMARY",
        )
    )
    # Checkpoint.run() hands one set of batch parameters to every validation definition, so
    # each DataFrame asset would get the same DataFrame: run the definitions one by one under
    # one run id instead, then assemble the checkpoint's result and run its actions.
    run_id = RunIdentifier(run_name=checkpoint.name, run_time=datetime.now(UTC))
    results, seconds = {}, {}
    for definition in definitions:
        started = time.monotonic()
        try:
            result = definition.run(
                checkpoint_id=checkpoint.id,
                batch_parameters={"dataframe": frames[definition.name]},
                expectation_parameters=parameters,
                result_format=checkpoint.result_format,
                run_id=run_id,
            )
        except SuiteParameterError as error:
            raise QualityError(
                f"{SUITES_DIR / definition.suite.name}.json: {error}: the parameters are "
                "now_utc, raw_<table>_rows and raw_<table>_loaded_at"
            ) from error
        seconds[definition.name] = time.monotonic() - started
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=definition.suite.name),
            run_id=run_id,
            batch_identifier=result.batch_id,
        )
        results[key] = result
    outcome = CheckpointResult(run_id=run_id, run_results=results, checkpoint_config=checkpoint)
    action_context = ActionContext()
    for action in checkpoint.actions:
        action.run(checkpoint_result=outcome, action_context=action_context)
    return outcome, seconds


def columns_of(kwargs: dict[str, Any]) -> str:
    names = [kwargs[key] for key in ("column", "column_A", "column_B") if kwargs.get(key)]
    return ", ".join([*names, *(kwargs.get("column_list") or [])])


def failure_detail(result: Any) -> str:
    """What was seen, in a few words, for the listing of failures."""
    info = result.exception_info or {}
    # One exception, or one per metric that failed to compute (a missing column, ...).
    raised = [info] if "raised_exception" in info else [v for v in info.values() if v]
    for exception in raised:
        if isinstance(exception, dict) and exception.get("raised_exception"):
            message = str(exception.get("exception_message") or "error").strip()
            return f"error: {message.splitlines()[0][:200]}"
    seen = result.result or {}
    if "observed_value" in seen:
        return f"observed {seen['observed_value']}"
    if seen.get("unexpected_count") is not None:
        examples = seen.get("partial_unexpected_list") or []
        text = f"{seen['unexpected_count']} unexpected"
        return text + (f", e.g. {examples[:5]}" if examples else "")
    return "failed"


def summarise(outcome: Any, frames: dict[str, Any], seconds: dict[str, float]) -> dict[str, Any]:
    suites, failed, failures, evaluated = {}, [], [], 0
    for validation in outcome.run_results.values():
        name = validation.suite_name
        statistics = validation.statistics
        evaluated += statistics["evaluated_expectations"]
        suite_failed = []
        for result in validation.results:
            if result.success:
                continue
            config = result.expectation_config
            label = f"{name}: {config.type}({columns_of(config.kwargs)})"
            suite_failed.append(label)
            failures.append({"expectation": label, "detail": failure_detail(result)})
        failed += suite_failed
        suites[name] = {
            "success": bool(validation.success),
            "rows": len(frames[name]),
            "evaluated": statistics["evaluated_expectations"],
            "failed": len(suite_failed),
            "seconds": round(seconds[name], 3),
        }
    return {
        "checkpoint": outcome.name,
        "success": bool(outcome.success),
        "evaluated": evaluated,
        "failed": failed,
        "failures": failures,
        "suites": suites,
        "run_time": outcome.run_id.run_time.isoformat(),
    }


def run_checkpoint(
    database: str | Path | None = None,
    target: str = "dev",
    report_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Validate the marts; return a JSON-serialisable summary of the run.

    Failed expectations do not raise: ``success`` is false and ``failed`` lists them as
    ``"<suite>: <expectation type>(<columns>)"``. Setup problems raise QualityError.
    """
    started = time.monotonic()
    report_dir = Path(report_dir or DEFAULT_REPORT_DIR).expanduser().resolve()
    checkpoint_doc, validations, suites = load_definitions()
    raw_tables = raw_tables_used(suites)
    warehouse = open_warehouse(database, target)
    try:
        frames, parameters = read_marts(warehouse, validations, raw_tables)
    finally:
        warehouse.close()

    outcome, seconds = validate(checkpoint_doc, validations, suites, frames, parameters, report_dir)
    summary = summarise(outcome, frames, seconds)
    stamp = outcome.run_id.run_time.strftime("%Y%m%dT%H%M%S%fZ")
    report = report_dir / "results" / f"{checkpoint_doc['name']}_{stamp}.json"
    docs = report_dir / "data_docs" / "index.html"
    summary.update(
        target=target,
        warehouse=warehouse.where,
        report=str(report),
        data_docs=str(docs) if docs.is_file() else None,
        parameters={
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in parameters.items()
        },
        seconds=round(time.monotonic() - started, 2),
    )
    report.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "summary": summary,
        "results": [result.to_json_dict() for result in outcome.run_results.values()],
    }
    report.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return summary


# --------------------------------------------------------------------------- command line


def print_summary(summary: dict[str, Any]) -> None:
    print(
        f"Checkpoint {summary['checkpoint']!r} on {summary['target']} ({summary['warehouse']}): "
        f"{summary['evaluated']} expectations in {len(summary['suites'])} suites, "
        f"{summary['seconds']} s"
    )
    for name, suite in summary["suites"].items():
        verdict = "passed" if suite["success"] else f"{suite['failed']} FAILED"
        counts = f"{suite['rows']:>10,} rows  {suite['evaluated']:>3} expectations"
        print(f"  {name:<18} {counts}  {verdict}")
    if summary["failures"]:
        print(f"\n{len(summary['failures'])} expectation(s) failed:")
        for failure in summary["failures"]:
            print(f"  {failure['expectation']}: {failure['detail']}")
    print(f"\nResult: {summary['report']}")
    if summary["data_docs"]:
        print(f"Data Docs: {summary['data_docs']}")
    print("All expectations passed." if summary["success"] else "The checkpoint FAILED.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="checkpoint.py",
        description="Validate the marts with the Great Expectations suites of this folder.",
        epilog="Exit status: 0 all passed, 1 some expectation failed, 2 a setup problem.",
    )
    parser.add_argument("--database", metavar="PATH", help="DuckDB file (default $DBT_DUCKDB_PATH)")
    parser.add_argument(
        "--target",
        default=os.environ.get("DBT_TARGET", "dev"),
        help="dbt target: dev or ci (DuckDB), prod (Snowflake); default $DBT_TARGET or dev",
    )
    parser.add_argument(
        "--report-dir",
        metavar="DIR",
        help=f"where results and Data Docs go (default {DEFAULT_REPORT_DIR})",
    )
    args = parser.parse_args(argv)
    try:
        summary = run_checkpoint(args.database, args.target, args.report_dir)
    except QualityError as error:
        print(f"checkpoint.py: {error}", file=sys.stderr)
        return 2
    print_summary(summary)
    return 0 if summary["success"] else 1


if __name__ == "__main__":
    sys.exit(main())
