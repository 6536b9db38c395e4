#!/usr/bin/env python3
"""Profile the tables of a warehouse schema (``raw`` by default) and write a report.

For each table of the schema: the row count and, per column, its type, null count and share,
distinct count, min/max (numbers, dates and timestamps), mean (numbers) and the most frequent
values of low-cardinality text and boolean columns. The counts are exact.

Everything comes from DuckDB in one aggregate query per table, plus one small ``group by`` per
low-cardinality column: about 0.2 s for the demo warehouse (``SCALE=1``) and 0.5 s at
``SCALE=80`` (1.9 million raw rows) on two cores. DuckDB's ``SUMMARIZE`` gives similar figures
and more (quartiles, standard deviation), but its statistics alone took 1.7 s at ``SCALE=80``
(against 0.6 s for these queries) and its distinct counts are estimates.

The report goes to ``<output>/<schema>_<UTC time>.md`` (tables for people) and ``.json``
(the same figures for a script, or to compare two loads); the output folder is
``data_quality/reports/profiles/`` unless told otherwise, which git ignores.

Usage: profile_tables.py [--database PATH] [--schema raw] [--output DIR]
Exit status: 0 the report is written, 2 a setup problem (no warehouse, no table in the
schema, the file locked by a writer): the message says what to do; 1 a query failed.
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

import duckdb

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE.parent / "reports" / "profiles"
DEFAULT_SCHEMA = "raw"
#: Text and boolean columns with at most this many distinct values get their top values.
LOW_CARDINALITY = 20
TOP_VALUES = 5
#: Longer values are cut in the report (the JSON keeps them up to 200 characters).
SHOWN_LENGTH = 40
SETUP_HINT = "run `make demo` (or `make generate`) first"

NUMERIC = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT"
    r"|FLOAT|DOUBLE|DECIMAL.*)$"
)
TEMPORAL = re.compile(r"^(DATE|TIME|TIMESTAMP.*|TIME WITH TIME ZONE)$")
CATEGORICAL = re.compile(r"^(VARCHAR.*|BOOLEAN|ENUM.*)$")


class ProfileError(Exception):
    """A setup problem: the message names it and the fix (exit status 2)."""


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def connect(database: Path) -> duckdb.DuckDBPyConnection:
    if not database.is_file():
        raise ProfileError(f"no warehouse at {database}: {SETUP_HINT}")
    try:
        return duckdb.connect(str(database), read_only=True)
    except duckdb.IOException as error:
        raise ProfileError(
            f"cannot open {database} ({error}): another process (dbt, the generator) may be "
            "writing it; run again when it has finished"
        ) from error


def columns_of(
    connection: duckdb.DuckDBPyConnection, schema: str
) -> dict[str, list[tuple[str, str]]]:
    """{table: [(column, type), ...]} of the schema's base tables, in column order."""
    rows = connection.execute(
        """
        select c.table_name, c.column_name, c.data_type
        from duckdb_columns() as c
        join duckdb_tables() as t
          on t.database_name = c.database_name
         and t.schema_name = c.schema_name
         and t.table_name = c.table_name
        where c.database_name = current_database() and c.schema_name = ?
        order by c.table_name, c.column_index
        """,
        [schema],
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, []).append((column, data_type))
    return tables


def profile_table(
    connection: duckdb.DuckDBPyConnection, schema: str, table: str, columns: list[tuple[str, str]]
) -> dict[str, Any]:
    """Row count and column profiles of one table."""
    started = time.perf_counter()
    relation = f"{quote(schema)}.{quote(table)}"
    selects = ["count(*)"]
    for name, data_type in columns:
        column = quote(name)
        selects += [f"count({column})", f"count(distinct {column})"]
        if NUMERIC.match(data_type) or TEMPORAL.match(data_type):
            selects += [f"min({column})::varchar", f"max({column})::varchar"]
        if NUMERIC.match(data_type):
            selects.append(f"avg({column})::double")
    values = list(connection.execute(f"select {', '.join(selects)} from {relation}").fetchone())
    rows = values.pop(0)
    profiles = []
    for name, data_type in columns:
        non_null, distinct = values.pop(0), values.pop(0)
        profile: dict[str, Any] = {
            "name": name,
            "type": data_type,
            "nulls": rows - non_null,
            "null_share": round((rows - non_null) / rows, 4) if rows else 0.0,
            "distinct": distinct,
        }
        if NUMERIC.match(data_type) or TEMPORAL.match(data_type):
            profile["min"], profile["max"] = values.pop(0), values.pop(0)
        if NUMERIC.match(data_type):
            mean = values.pop(0)
            profile["mean"] = None if mean is None else round(mean, 4)
        if CATEGORICAL.match(data_type) and 0 < distinct <= LOW_CARDINALITY:
            top = connection.execute(
                f"select {quote(name)}::varchar as value, count(*) as n from {relation} "
                f"where {quote(name)} is not null group by all order by n desc, value "
                f"limit {TOP_VALUES}"
            ).fetchall()
            profile["top_values"] = [{"value": value[:200], "count": n} for value, n in top]
        profiles.append(profile)
    return {
        "name": table,
        "rows": rows,
        "columns": profiles,
        "seconds": round(time.perf_counter() - started, 3),
    }


def profile(database: Path, schema: str = DEFAULT_SCHEMA) -> dict[str, Any]:
    """The profile of every table of ``schema`` in the DuckDB file ``database``, as a dict."""
    started = time.perf_counter()
    connection = connect(database)
    try:
        tables = columns_of(connection, schema)
        if not tables:
            raise ProfileError(f"no table in schema {schema} of {database}: {SETUP_HINT}")
        profiles = [profile_table(connection, schema, t, cols) for t, cols in tables.items()]
    finally:
        connection.close()
    return {
        "database": str(database),
        "schema": schema,
        "profiled_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 3),
        "tables": profiles,
    }


def cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if len(text) > SHOWN_LENGTH:
        text = text[: SHOWN_LENGTH - 3] + "..."
    return text.replace("|", "\\|").replace("\n", " ")


def rows_text(rows: int) -> str:
    return f"{rows:,} row{'' if rows == 1 else 's'}"


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: a summary table, then one table of columns per table."""
    lines = [
        f"# Profile of schema `{report['schema']}`",
        "",
        f"Warehouse `{report['database']}`, profiled at {report['profiled_at']} "
        f"in {report['seconds']} s.",
        "",
        "| table | rows | columns |",
        "|---|---:|---:|",
    ]
    lines += [f"| `{t['name']}` | {t['rows']:,} | {len(t['columns'])} |" for t in report["tables"]]
    for table in report["tables"]:
        lines += [
            "",
            f"## `{report['schema']}.{table['name']}`: {rows_text(table['rows'])}",
            "",
            "| column | type | nulls | null share | distinct | min | max | mean | top values |",
            "|---|---|---:|---:|---:|---|---|---:|---|",
        ]
        for column in table["columns"]:
            top = ", ".join(
                f"{cell(v['value'])} ({v['count']:,})" for v in column.get("top_values", [])
            )
            lines.append(
                f"| `{column['name']}` | {column['type']} | {column['nulls']:,} "
                f"| {column['null_share']:.2%} | {column['distinct']:,} "
                f"| {cell(column.get('min'))} | {cell(column.get('max'))} "
                f"| {cell(column.get('mean'))} | {top} |"
            )
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], output: Path) -> tuple[Path, Path]:
    """Write ``<schema>_<UTC time>.md`` and ``.json`` into ``output``; return both paths."""
    output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(report["profiled_at"]).strftime("%Y%m%dT%H%M%SZ")
    base = output / f"{report['schema']}_{stamp}"
    json_path, markdown_path = base.with_suffix(".json"), base.with_suffix(".md")
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    markdown_path.write_text(markdown(report))
    return markdown_path, json_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="profile_tables.py",
        description="Profile the tables of a warehouse schema into a Markdown and JSON report.",
        epilog="Exit status: 0 report written, 1 a query failed, 2 a setup problem.",
    )
    parser.add_argument("--database", metavar="PATH", help="DuckDB file (default $DBT_DUCKDB_PATH)")
    parser.add_argument(
        "--schema", default=DEFAULT_SCHEMA, help=f"schema to profile (default {DEFAULT_SCHEMA})"
    )
    parser.add_argument(
        "--output",
        metavar="DIR",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where the report goes (default {DEFAULT_OUTPUT})",
    )
    args = parser.parse_args(argv)
    database = args.database or os.environ.get("DBT_DUCKDB_PATH")
    try:
        if not database:
            raise ProfileError("no --database given and DBT_DUCKDB_PATH is not set")
        report = profile(Path(database), args.schema)
    except ProfileError as error:
        print(f"profile_tables.py: {error}", file=sys.stderr)
        return 2
    except duckdb.Error as error:
        print(f"profile_tables.py: a query failed: {error}", file=sys.stderr)
        return 1
    markdown_path, json_path = write_report(report, args.output)
    for table in report["tables"]:
        columns = len(table["columns"])
        print(f"{args.schema}.{table['name']}: {rows_text(table['rows'])}, {columns} columns")
    print(f"Profiled {len(report['tables'])} tables in {report['seconds']} s: {markdown_path}")
    print(f"JSON: {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
