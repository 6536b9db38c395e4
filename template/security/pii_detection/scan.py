#!/usr/bin/env python3
"""Scan the raw tables and the dbt seeds for personal data that dbt does not classify as pii.

Every column of the warehouse's schema ``raw`` is sampled (a reservoir sample of
``--sample-rows`` rows per table, repeatable, read-only) and every seed CSV is read up to
the same number of rows. A column is flagged as likely PII when

* by content: the share of its non-null sampled values that a detector matches reaches
  that detector's threshold (e-mail, phone, US SSN, UK NINO, card number with a brand
  prefix and a valid Luhn check digit, person name, street address; detectors.py), or
* by name: its name matches a rule (email, phone, first_name, street, ssn, dob, ...) for
  its type.

Each flagged column is then looked up in dbt (the manifest that ``dbt parse`` writes; the
classification lives in column meta, see security/data_classification/): it must be
classified ``pii``. A column that is not, or that no dbt source or seed declares, is a
finding. A column meta ``pii_scan_ignore: <reason>`` accepts a flagged column on purpose.

The report goes to ``<report>.json`` and ``<report>.md`` (default ``.local/pii_report``,
which git ignores). It holds counts and shares only, never a sampled value.

Exit status: 0 no finding, 1 a flagged column is not classified pii (each finding names
the column and the YAML file to fix), 2 setup error (no warehouse: run ``make demo``;
no manifest: run ``dbt parse``; a seeds folder that does not exist).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEFAULT_SAMPLE_ROWS = 10_000
DEFAULT_REPORT = ROOT / ".local" / "pii_report"
IGNORE_KEY = "pii_scan_ignore"
#: Integer columns are only checked for card numbers, which have 13 digits or more.
SMALLEST_CARD_NUMBER = 10**12


def _load(name: str, path: Path) -> ModuleType:
    """Import a sibling script by path (the folders of security/ are not packages)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


detectors = _load("pii_detectors", HERE / "detectors.py")
classify = _load("data_classification", HERE.parent / "data_classification" / "classify.py")


class SetupError(Exception):
    """Missing or unusable input: exit status 2."""


@dataclass
class ColumnScan:
    """What the scan found in one column."""

    kind: str  # table or seed
    relation: str  # raw.customers, or the seed's name
    column: str
    data_type: str
    family: str
    sampled: int = 0
    non_null: int = 0
    matches: dict[str, int] = field(default_factory=dict)
    name_rules: list[str] = field(default_factory=list)
    flagged_by: list[str] = field(default_factory=list)
    classification: str | None = None
    declared: bool = False
    yaml_file: str | None = None
    status: str = "clean"
    note: str | None = None

    @property
    def key(self) -> str:
        return f"{self.relation}.{self.column}"

    def shares(self) -> dict[str, float]:
        if not self.non_null:
            return {}
        return {name: round(count / self.non_null, 4) for name, count in self.matches.items()}


# --------------------------------------------------------------------------- sampling


def evaluate(scan: ColumnScan, values: list[Any]) -> None:
    """Run the content detectors of the column's type over its sampled values."""
    scan.sampled = len(values)
    counts: Counter[str] = Counter()
    for value in values:
        if value is None:
            continue
        if scan.family == "integer":
            if abs(value) < SMALLEST_CARD_NUMBER:
                counts[""] += 1  # non-null, but too short for any detector
                continue
            text = str(value)
        else:
            text = str(value).strip()
            if not text:
                continue
        counts[text] += 1
    scan.non_null = sum(counts.values())
    applicable = [
        (name, check)
        for name, (check, families) in detectors.CONTENT_DETECTORS.items()
        if scan.family in families
    ]
    if not applicable or not scan.non_null:
        return
    matches: Counter[str] = Counter()
    for text, count in counts.items():
        if not text:
            continue
        for name, check in applicable:
            if check(text):
                matches[name] += count
    scan.matches = dict(sorted(matches.items()))
    for name, count in scan.matches.items():
        if count / scan.non_null >= detectors.THRESHOLDS[name]:
            scan.flagged_by.append(f"content:{name}")


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def scan_warehouse(database: Path, schema: str, sample_rows: int) -> list[ColumnScan]:
    import duckdb

    if not database.is_file():
        raise SetupError(f"no warehouse at {database}: run `make demo` first (or give --database)")
    try:
        connection = duckdb.connect(str(database), read_only=True)
    except duckdb.Error as error:
        raise SetupError(
            f"cannot open {database} read-only ({error}): stop the process that writes "
            "it (dbt, Airflow, a DuckDB shell) and run the scan again"
        ) from error
    try:
        layout = connection.execute(
            "select c.table_name, c.column_name, c.data_type "
            "from information_schema.columns as c "
            "join information_schema.tables as t "
            "  on t.table_schema = c.table_schema and t.table_name = c.table_name "
            "where c.table_schema = ? and t.table_type = 'BASE TABLE' "
            "order by c.table_name, c.ordinal_position",
            [schema],
        ).fetchall()
        if not layout:
            raise SetupError(
                f"schema {schema} of {database} holds no tables: run `make demo` first"
            )
        tables: dict[str, list[tuple[str, str]]] = {}
        for table, column, data_type in layout:
            tables.setdefault(table, []).append((column, data_type))
        scans: list[ColumnScan] = []
        for table, columns in tables.items():
            table_scans = [
                ColumnScan(
                    kind="table",
                    relation=f"{schema}.{table}",
                    column=column,
                    data_type=data_type,
                    family=detectors.type_family(data_type),
                )
                for column, data_type in columns
            ]
            scans.extend(table_scans)
            sampled = [s for s in table_scans if s.family in {"text", "integer"}]
            if not sampled:
                continue
            select = ", ".join(quote(s.column) for s in sampled)
            rows = connection.execute(
                f"select {select} from {quote(schema)}.{quote(table)} "
                f"using sample reservoir({int(sample_rows)} rows) repeatable (42)"
            ).fetchall()
            for position, column_scan in enumerate(sampled):
                evaluate(column_scan, [row[position] for row in rows])
        return scans
    finally:
        connection.close()


def scan_seeds(seeds: Path, sample_rows: int) -> list[ColumnScan]:
    if not seeds.is_dir():
        raise SetupError(f"no seeds folder at {seeds}: give --seeds dbt/seeds")
    scans: list[ColumnScan] = []
    for path in sorted(seeds.rglob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            rows = [row for _, row in zip(range(sample_rows), reader, strict=False)]
        for position, column in enumerate(header):
            column_scan = ColumnScan(
                kind="seed", relation=path.stem, column=column, data_type="csv", family="text"
            )
            evaluate(column_scan, [row[position] if position < len(row) else None for row in rows])
            scans.append(column_scan)
    return scans


# --------------------------------------------------------------------------- verdicts


def judge(scans: list[ColumnScan], catalog: Any) -> list[str]:
    """Add name rules and classification to each scan; the findings, one line each."""
    findings = []
    default_yaml = next(
        (
            node["yaml_file"]
            for node in catalog.nodes.values()
            if node["resource_type"] == "source" and node["yaml_file"]
        ),
        "models/staging/_sources.yml",
    )
    for scan in scans:
        scan.name_rules = detectors.name_matches(scan.column, scan.family)
        scan.flagged_by += [f"name:{rule}" for rule in scan.name_rules]
        if scan.kind == "table":
            schema, table = scan.relation.split(".", 1)
            column = catalog.source_column(schema.lower(), table.lower(), scan.column.lower())
            yaml_file = (
                column.yaml_file if column else catalog.source_yaml(schema.lower(), table.lower())
            )
            declare_in = yaml_file or default_yaml
        else:
            column = catalog.seed_column(scan.relation, scan.column.lower())
            yaml_file = column.yaml_file if column else catalog.seed_yaml(scan.relation)
            declare_in = yaml_file or "seeds/_seeds.yml"
        scan.declared = column is not None
        scan.classification = column.classification if column else None
        scan.yaml_file = catalog.display(declare_in)
        if not scan.flagged_by:
            scan.status = (
                "classified pii, not detected" if scan.classification == "pii" else ("clean")
            )
            continue
        if scan.classification == "pii":
            scan.status = "pii"
            continue
        if column is not None and column.meta.get(IGNORE_KEY):
            scan.status = "ignored"
            scan.note = str(column.meta[IGNORE_KEY])
            continue
        scan.status = "finding"
        evidence = describe(scan)
        if column is None:
            where = "dbt source" if scan.kind == "table" else "seed YAML"
            findings.append(
                f"{scan.key} looks like personal data ({evidence}) but no {where} declares "
                f"it: declare it with `config: {{meta: {{classification: pii}}}}` in "
                f"{scan.yaml_file}"
            )
        else:
            level = scan.classification or "unclassified"
            findings.append(
                f"{scan.key} looks like personal data ({evidence}) but is {level}: classify it "
                f"pii in {scan.yaml_file} (`config: {{meta: {{classification: pii}}}}`), or "
                f"set meta `{IGNORE_KEY}: <why it is not personal data>` there"
            )
    return findings


def describe(scan: ColumnScan) -> str:
    parts = []
    for reason in scan.flagged_by:
        kind, name = reason.split(":", 1)
        if kind == "content":
            share = scan.matches[name] / scan.non_null
            parts.append(f"{name} in {share:.0%} of {scan.non_null:,} sampled values")
        else:
            parts.append(f"its name matches the {name} rule")
    return "; ".join(parts)


# --------------------------------------------------------------------------- report


def report_paths(report: Path) -> tuple[Path, Path]:
    base = report.with_suffix("") if report.suffix in {".json", ".md"} else report
    return base.with_name(base.name + ".json"), base.with_name(base.name + ".md")


def write_report(
    report: Path,
    scans: list[ColumnScan],
    findings: list[str],
    context: dict[str, Any],
) -> tuple[Path, Path]:
    json_path, md_path = report_paths(report)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    columns = []
    for scan in scans:
        columns.append(
            {
                "kind": scan.kind,
                "relation": scan.relation,
                "column": scan.column,
                "data_type": scan.data_type,
                "sampled": scan.sampled,
                "non_null": scan.non_null,
                "matches": scan.matches,
                "shares": scan.shares(),
                "name_rules": scan.name_rules,
                "flagged_by": scan.flagged_by,
                "declared_in_dbt": scan.declared,
                "classification": scan.classification,
                "yaml_file": scan.yaml_file,
                "status": scan.status,
                "note": scan.note,
            }
        )
    document = {
        **context,
        "thresholds": detectors.THRESHOLDS,
        "summary": {
            "columns": len(scans),
            "flagged": sum(1 for s in scans if s.flagged_by),
            "findings": len(findings),
        },
        "findings": findings,
        "columns": columns,
    }
    json_path.write_text(json.dumps(document, indent=2) + "\n")

    lines = [
        "# PII scan",
        "",
        f"Generated by `security/pii_detection/scan.py` at {context['generated_at']} "
        f"from `{context['database']}` (schema `{context['schema']}`, a sample of up to "
        f"{context['sample_rows']:,} rows per table) and `{context['seeds']}`, in "
        f"{context['seconds']} s. Counts and shares only: no sampled value is copied here.",
        "",
        f"**{len(findings)} finding(s)**: "
        + ("none, every flagged column is classified pii." if not findings else ""),
    ]
    lines += [f"- {finding}" for finding in findings]
    lines += [
        "",
        "## Flagged columns",
        "",
        "| column | evidence | classification | status | YAML |",
        "|---|---|---|---|---|",
    ]
    for scan in scans:
        if scan.flagged_by:
            lines.append(
                f"| `{scan.key}` | {describe(scan)} | {scan.classification or '-'} | "
                f"{scan.status}{': ' + scan.note if scan.note else ''} | {scan.yaml_file} |"
            )
    near = [
        scan
        for scan in scans
        if scan.matches and not any(r.startswith("content:") for r in scan.flagged_by)
    ]
    if near:
        lines += [
            "",
            "## Below the thresholds",
            "",
            "Columns where some values matched a detector, too few to flag the column: "
            "worth a look if the column holds free text.",
            "",
            "| column | matches | classification |",
            "|---|---|---|",
        ]
        for scan in near:
            shares = ", ".join(
                f"{name} {count}/{scan.non_null}" for name, count in scan.matches.items()
            )
            lines.append(f"| `{scan.key}` | {shares} | {scan.classification or '-'} |")
    quiet = [s for s in scans if s.status == "classified pii, not detected"]
    if quiet:
        lines += [
            "",
            "## Classified pii, not detected",
            "",
            "Fine: the scan finds only what its detectors know (a city name, for example).",
            "",
        ]
        lines += [f"- `{scan.key}`" for scan in quiet]
    thresholds = ", ".join(f"{name} {share:.0%}" for name, share in detectors.THRESHOLDS.items())
    lines += ["", f"Thresholds (share of non-null sampled values): {thresholds}.", ""]
    md_path.write_text("\n".join(lines))
    return json_path, md_path


# --------------------------------------------------------------------------- CLI


def default_database() -> Path | None:
    if os.environ.get("DBT_DUCKDB_PATH"):
        return Path(os.environ["DBT_DUCKDB_PATH"])
    candidates = sorted((ROOT / ".local").glob("*.duckdb"))
    return candidates[0] if len(candidates) == 1 else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scan.py",
        description=(
            "Sample every column of the warehouse's raw schema and every dbt seed, flag "
            "likely personal data by content and by column name, and check that dbt "
            "classifies each flagged column as pii."
        ),
        epilog=(
            "Exit status: 0 no finding, 1 a flagged column is not classified pii, 2 setup "
            "error (no warehouse: run make demo; no manifest: run dbt parse). Example: "
            "scan.py --database .local/shop.duckdb --seeds dbt/seeds --report .local/pii_report"
        ),
    )
    parser.add_argument(
        "--database",
        type=Path,
        help="the DuckDB file; default $DBT_DUCKDB_PATH, else the one .duckdb file in .local/",
    )
    parser.add_argument("--schema", default="raw", help="the schema to scan (default raw)")
    parser.add_argument(
        "--seeds", type=Path, default=ROOT / "dbt" / "seeds", help="the seeds folder"
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=DEFAULT_REPORT,
        help="writes REPORT.json and REPORT.md (default .local/pii_report)",
    )
    parser.add_argument(
        "--sample-rows",
        type=int,
        default=DEFAULT_SAMPLE_ROWS,
        help=f"rows sampled per table and read per seed (default {DEFAULT_SAMPLE_ROWS:,})",
    )
    parser.add_argument("--project-dir", type=Path, help="the dbt project (default dbt/)")
    parser.add_argument(
        "--manifest",
        type=Path,
        help="dbt's manifest.json (default <project-dir>/target/manifest.json)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    if args.sample_rows < 1:
        print("scan.py: --sample-rows must be at least 1", file=sys.stderr)
        return 2
    database = args.database or default_database()
    project_dir = (args.project_dir or classify.default_project_dir()).resolve()
    try:
        if database is None:
            raise SetupError(
                "which warehouse? give --database PATH or set DBT_DUCKDB_PATH "
                "(`make pii-scan` sets it); run `make demo` first if there is none"
            )
        manifest_path = args.manifest or classify.default_manifest(project_dir)
        catalog = classify.catalog(classify.load_manifest(manifest_path, project_dir), project_dir)
        scans = scan_warehouse(database, args.schema, args.sample_rows)
        scans += scan_seeds(args.seeds, args.sample_rows)
    except (SetupError, classify.SetupError) as error:
        print(f"scan.py: {error}", file=sys.stderr)
        return 2
    findings = judge(scans, catalog)
    seconds = round(time.perf_counter() - started, 2)
    context = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "database": str(database),
        "schema": args.schema,
        "seeds": str(args.seeds),
        "sample_rows": args.sample_rows,
        "seconds": seconds,
    }
    json_path, md_path = write_report(args.report, scans, findings, context)
    flagged = [s for s in scans if s.flagged_by]
    print(
        f"scan.py: {len(scans)} columns scanned in {seconds} s, {len(flagged)} flagged as "
        f"likely PII, {len(findings)} not classified pii; report: {md_path} ({json_path.name})"
    )
    if findings:
        print(f"scan.py: {len(findings)} finding(s):", file=sys.stderr)
        for finding in findings:
            print(f"  - {finding}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
