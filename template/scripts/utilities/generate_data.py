#!/usr/bin/env python3
"""Land the sample shop's raw tables in DuckDB, the way a replication tool lands them.

The initial load (batch 0) creates schema ``raw`` with the orders of 2025; ``--increment N``
applies business day N (2026-01-01 is day 1) as upserts: new rows, updates and soft deletes
(``_is_deleted``), each touched row with ``_batch_id = N``, a newer ``updated_at`` and the
wall-clock ``_loaded_at``. Every business column is a function of (--seed, --scale, batch),
computed by the SQL of generate_data.sql (next to this file) from hashes over ``range()``. Each load
is logged in ``raw._load_log`` and described by ``<database folder>/loads/batch_<N>.json``;
scripts/utilities/README.md tells the rest. Exit status: 0 success, 2 a bad argument or database
state (nothing is written), 1 the database cannot be opened or the load failed (rolled back).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

GENERATOR_VERSION = 1
DEFAULT_SEED, DEFAULT_SCALE, MAX_SCALE = 42, 1.0, 1000.0
DEFAULT_DATABASE = ".local/warehouse.duckdb"
ID_LIST_LIMIT = 1000  # manifests list at most this many ids per change kind; counts are exact
# Sizes at scale 1 (the contract), linear in --scale; products are capped.
CUSTOMERS_PER_SCALE, PRODUCTS_PER_SCALE, PRODUCTS_CAP, ORDERS_PER_SCALE = 1000, 200, 20_000, 5000
# Customers sign up over 2024-2025, products exist from mid-2023, the initial load holds the
# orders of 2025 as of 2026-01-01; increment N is the business day 2026-01-01 + (N - 1) days.
CUSTOMERS_FROM, PRODUCTS_FROM = datetime(2024, 1, 1), datetime(2023, 6, 1)
ORDERS_FROM, INITIAL_AS_OF = datetime(2025, 1, 1), datetime(2026, 1, 1)
FIRST_INCREMENT_DAY = date(2026, 1, 1)
#: table -> the period of its rows in the initial load, the hours of an increment's day in
#: which its new rows arrive (customers and products in the morning, orders in the afternoon),
#: and the salt of their times.
CALENDAR = {
    "customers": (CUSTOMERS_FROM, INITIAL_AS_OF, (0, 12), "created_at"),
    "products": (PRODUCTS_FROM, ORDERS_FROM, (0, 12), "created_at"),
    "orders": (ORDERS_FROM, INITIAL_AS_OF, (12, 24), "ordered_at"),
}


def records(text: str) -> dict[str, str]:
    """The `name: text` lines of a block; an indented line continues the one above."""
    found = re.findall(r"^(\w+): (.*(?:\n .*)*)", text, re.MULTILINE)
    return {name: re.sub(r"\s*\n\s+", " ", body) for name, body in found}


def columns(spec: str) -> list[tuple[str, str]]:
    return [(column.split()[0], column.split()[1]) for column in spec.split(", ")]


#: table -> [(column, DuckDB type)]: the key first, the replication columns last.
TABLES = {
    table: columns(f"{spec}, _is_deleted BOOLEAN, _batch_id INTEGER, _loaded_at TIMESTAMP")
    for table, spec in records("""
customers: customer_id BIGINT, first_name VARCHAR, last_name VARCHAR, email VARCHAR, phone VARCHAR,
  street VARCHAR, city VARCHAR, country_code VARCHAR(2), created_at TIMESTAMP, updated_at TIMESTAMP
products: product_id BIGINT, sku VARCHAR, product_name VARCHAR, category VARCHAR,
  unit_price DECIMAL(12,2), created_at TIMESTAMP, updated_at TIMESTAMP
orders: order_id BIGINT, customer_id BIGINT, ordered_at TIMESTAMP, status VARCHAR,
  shipping_country_code VARCHAR(2), updated_at TIMESTAMP
order_items: order_item_id BIGINT, order_id BIGINT, product_id BIGINT, quantity INTEGER,
  unit_price DECIMAL(12,2), discount_pct DECIMAL(5,2), updated_at TIMESTAMP
payments: payment_id BIGINT, order_id BIGINT, payment_method VARCHAR, amount DECIMAL(12,2),
  paid_at TIMESTAMP, updated_at TIMESTAMP
""").items()
}
KEYS = {table: spec[0][0] for table, spec in TABLES.items()}
LOAD_LOG = columns(
    "batch_id INTEGER, kind VARCHAR, loaded_at TIMESTAMP, business_date DATE, seed BIGINT, "
    "scale DOUBLE, generator_version INTEGER, counts VARCHAR"
)


# The value domains. Order statuses are the rows of dbt/seeds/order_statuses.csv (placed, paid,
# shipped, delivered, cancelled, returned), countries those of dbt/seeds/country_codes.csv, each
# with a weight in percent and five cities; a category has its lowest and highest price in whole
# units (prices end in .99) and eight nouns. "_" stands for a space.
COUNTRIES = ("US", "CA", "GB", "DE", "FR", "NL", "ES", "IT", "SE", "AU")
CATEGORIES = ("books", "electronics", "home", "toys", "sports", "beauty")
WORDS = {
    name: [word.replace("_", " ") for word in words.split()]
    for name, words in records("""
first_name: Anna Ben Chloe David Emma Felix Grace Hugo Isla Jonas Karin Liam Maria Noah Olivia
  Pablo Quinn Rosa Sven Tara Umar Vera Wei Xenia Yusuf Zoe Lucas Sofia Matteo Lena Amara Oscar
  Priya Tomas Elif Kenji Ines Mateo Freya Omar
last_name: Smith Johnson Brown Taylor Wilson Martin Mueller Schmidt Dubois Bernard Garcia Lopez
  Rossi Bianchi Jansen Bakker Andersson Nilsson Kowalski Novak Murphy Walsh Chen Nguyen Patel
  Khan Cohen Silva Costa Young King Wright Scott Green Baker Moreau Fischer Weber Ricci Visser
street: Maple Oak Station Church Mill Park High Elm Willow Cedar Harbour Bridge Garden Meadow
  River Hill Lake Forest Market Orchard Chapel Victoria Queen King
suffix: Street Road Avenue Lane Way
adjective: Classic Deluxe Compact Eco Pro Mini Vintage Smart Essential Premium Everyday Travel
US: 30 New_York Chicago Austin Seattle Denver
CA: 8 Toronto Vancouver Montreal Calgary Ottawa
GB: 12 London Manchester Leeds Bristol Edinburgh
DE: 12 Berlin Hamburg Munich Cologne Leipzig
FR: 10 Paris Lyon Marseille Toulouse Nantes
NL: 6 Amsterdam Rotterdam Utrecht Eindhoven Groningen
ES: 7 Madrid Barcelona Valencia Seville Bilbao
IT: 7 Rome Milan Naples Turin Bologna
SE: 4 Stockholm Gothenburg Malmo Uppsala Lund
AU: 4 Sydney Melbourne Brisbane Perth Adelaide
books: 4 59 Novel Cookbook Atlas Biography Field_Guide Poetry_Collection Travel_Guide
  Graphic_Novel
electronics: 9 1499 Headphones Speaker Charger Keyboard Mouse Monitor Webcam Power_Bank
home: 4 299 Lamp Cushion Kettle Vase Blanket Frying_Pan Mug_Set Clock
toys: 2 99 Puzzle Building_Set Plush_Bear Kite Board_Game Yo-Yo Toy_Car Puppet
sports: 4 199 Yoga_Mat Football Water_Bottle Tennis_Racket Dumbbell_Set Running_Cap Jump_Rope
  Bike_Light
beauty: 2 129 Face_Cream Shampoo Lip_Balm Perfume Hand_Soap Sunscreen Hair_Brush Nail_Kit
""").items()
}


def sql_list(values: Sequence[Any]) -> str:
    """A DuckDB list literal of strings or integers."""
    quoted = ("'" + v.replace("'", "''") + "'" if isinstance(v, str) else str(v) for v in values)
    return "[" + ", ".join(quoted) + "]"


LISTS = {  # the value lists as DuckDB list literals, for {name}[1 + i] in the SQL
    name: sql_list(values)
    for name, values in {
        **{
            name: WORDS[name]
            for name in ("first_name", "last_name", "street", "suffix", "adjective")
        },
        "country": COUNTRIES,
        "country_buckets": [i for i, c in enumerate(COUNTRIES) for _ in range(int(WORDS[c][0]))],
        "city": [city for country in COUNTRIES for city in WORDS[country][1:]],
        "category": CATEGORIES,
        "sku": [category[:3].upper() for category in CATEGORIES],
        "low": [int(WORDS[category][0]) for category in CATEGORIES],
        "high": [int(WORDS[category][1]) for category in CATEGORIES],
        "noun": [noun for category in CATEGORIES for noun in WORDS[category][2:]],
    }.items()
}

# table -> the temp tables of its updated and of its soft-deleted rows (first column: the key)
CHANGES = {"customers": ("_chg_customers", None), "products": ("_chg_products", None),
           "orders": ("_chg_orders", "_del_orders"), "order_items": (None, "_del_items"),
           "payments": (None, "_del_payments")}  # fmt: skip
# The details of an increment in its manifest: (table, key, SQL of (key, value) rows).
DETAILS = [
    ("customers", "updated_columns", "SELECT unnest(['email', 'street', 'city']), unnest(["
     "count(*) FILTER (email_changed), count(*) FILTER (address_changed), count(*) FILTER "
     "(address_changed)]) FROM _chg_customers"),
    ("products", "updated_columns", "SELECT 'unit_price', count(*) FROM _chg_products"),
    ("products", "new_unit_price", "SELECT product_id, unit_price::VARCHAR FROM _chg_products "
     f"ORDER BY 1 LIMIT {ID_LIST_LIMIT}"),
    ("orders", "updated_columns", "SELECT 'status', count(*) FROM _chg_orders"),
    ("orders", "new_status", f"SELECT order_id, status FROM _chg_orders ORDER BY 1 "
     f"LIMIT {ID_LIST_LIMIT}"),
    ("orders", "status_changes", "SELECT old_status || '->' || status, count(*) FROM "
     "_chg_orders GROUP BY ALL ORDER BY 1"),
    ("payments", "soft_deleted_reasons", "SELECT reason, count(*) FROM _del_payments "
     "GROUP BY ALL ORDER BY 1"),
]  # fmt: skip

# What the command line says: the options' help, and each error as one line naming the problem
# and the fix (exit status 2 for a bad argument or database state, 1 when the load fails).
HELP = records(f"""
database: the DuckDB file (created with its folders if missing); default: $DBT_DUCKDB_PATH, else
  {DEFAULT_DATABASE}
scale: size factor, a positive number (0.1, 1, 80); default 1 for the initial load; an increment
  uses the scale of the initial load
seed: seed of every generated value; default {DEFAULT_SEED} for the initial load; an increment
  uses the seed of the initial load
increment: land increment N (>= 1) on top of the existing tables instead of the initial load;
  increment N-1 must have been landed before
json: print the manifest as JSON on stdout (the summary then goes to stderr)
description: Land the sample shop's raw tables (customers, products, orders, order_items,
  payments) in schema raw of a DuckDB file, as a replication tool lands them: the initial load
  (batch 0, the orders of 2025), then increments (one business day each, from 2026-01-01) of
  inserts, updates and soft deletes.
epilog: Scale 1 is 1,000 customers, 200 products, 5,000 orders and ~12,500 order_items, all
  linear in --scale (80 gives ~1M order_items); an increment inserts, updates and soft-deletes a
  business day of rows (scripts/utilities/README.md). Each load writes <database
  folder>/loads/batch_<N>.json and a row of raw._load_log. Exit status: 0 success, 2 bad
  argument or database state (nothing written), 1 the database cannot be opened or the load
  failed (rolled back). Examples: generate_data.py --scale 0.1; generate_data.py --increment 1;
  generate_data.py --scale 80 --json > batch_0.json
""")
ERRORS = records("""
scale: --scale must be a positive number (got {text}): use 1 for the demo size, 80 for ~1M order
  items
large: --scale must be at most {max:g} (got {text}): use 80 for ~1M order items, 800 for ~10M
seed: --seed must be a whole number from 0 to 2**63-1 (got {text}): e.g. --seed 42
increment: --increment must be a whole number >= 1 (got {text}): leave --increment out for the
  initial load (batch 0)
clash: {path.name} would clash with schema {schema}: DuckDB names the database after its file,
  so choose another file name (e.g. warehouse.duckdb)
no_duckdb: duckdb is missing: run `make setup` and use the .venv's python
sql: cannot read {path} ({error}), the SQL of the loads: restore it (git checkout --
  scripts/utilities/generate_data.sql)
locked: cannot open {path}: {error}. Close the program that holds it (dbt, DBeaver, a notebook)
  and run again
failed: the load failed and was rolled back: {error}
missing: no warehouse at {path} for --increment {batch}: land the initial load first (python
  scripts/utilities/generate_data.py --database {path})
empty: {path} holds no initial load (schema raw is empty) for --increment {batch}: run the
  generator without --increment first
foreign: {path} has raw tables but no raw._load_log, so they were not landed by this generator:
  run the initial load (without --increment) to replace them
columns: raw.{table} in {path} does not have the columns of this generator ({names}): run the
  initial load (without --increment) to land the tables afresh
log: raw._load_log in {path} does not list batches 0..N in order: run the initial load (without
  --increment) to start a new series
ahead: the raw tables in {path} hold batch {landed} but raw._load_log ends at batch {last}: run
  the initial load (without --increment) to start afresh
landed: increment {batch} is already landed in {path} (the last batch is {last}): land
  --increment {next}, or run the initial load again to start over
gap: increment {batch} needs increment {previous} first (the last batch in {path} is {last}):
  land --increment {next}
differs: --{option} {given} differs from the initial load's {landed}: increments continue the
  series of the initial load; leave --{option} out, or run the initial load again with
  --{option} {given}
""")
#: option -> (conversion, is the value valid?)
OPTIONS = {
    "scale": (float, lambda value: math.isfinite(value) and value > 0),
    "seed": (int, lambda value: 0 <= value < 2**63),
    "increment": (int, lambda value: value >= 1),
}


class Failure(Exception):
    """An error of ERRORS; exit status 2 (nothing written) or 1 (the load failed)."""

    def __init__(self, key: str, status: int = 2, **facts: Any) -> None:
        super().__init__(ERRORS[key].format(**facts))
        self.status = status


def sizes(scale: float) -> dict[str, int]:
    """Row counts of the initial load (items and payments follow orders) and of an increment."""
    n = {
        "customers": max(1, round(CUSTOMERS_PER_SCALE * scale)),
        "products": max(1, min(PRODUCTS_CAP, round(PRODUCTS_PER_SCALE * scale))),
        "orders": max(1, round(ORDERS_PER_SCALE * scale)),
    }
    share = {"new_customers": ("customers", 0.02), "customer_updates": ("customers", 0.02),
             "new_products": ("products", 0.01), "price_updates": ("products", 0.02),
             "new_orders": ("orders", 0.02), "deleted_orders": ("orders", 0.001)}  # fmt: skip
    return n | {name: max(1, round(n[table] * part)) for name, (table, part) in share.items()}


def ts(value: datetime) -> str:
    return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S.%f}'"


def statements() -> dict[str, str]:
    """The blocks of generate_data.sql by name: each starts at its `-- @name` line."""
    path = Path(__file__).with_suffix(".sql")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise Failure("sql", 1, path=path, error=error.strerror) from error
    return dict(re.findall(r"^-- @(\w+)[^\n]*\n(.*?)(?=^-- @|\Z)", text, re.MULTILINE | re.DOTALL))


def load(con: Any, sql: dict[str, str], seed: int, scale: float, batch: int, loaded_at: datetime,
         day: date | None):  # fmt: skip
    """Run the SQL blocks of the initial load or of increment `batch`; return each table's
    largest id before the load (the ids after it are the inserted rows)."""
    top = dict.fromkeys(KEYS, 0)
    if batch:
        maxima = [f"(SELECT coalesce(max({key}), 0) FROM raw.{t})" for t, key in KEYS.items()]
        top = dict(zip(KEYS, con.execute(f"SELECT {', '.join(maxima)}").fetchone(), strict=True))
    else:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        for table, spec in [*TABLES.items(), ("_load_log", LOAD_LOG)]:
            con.execute(f"CREATE OR REPLACE TABLE raw.{table} ({', '.join(map(' '.join, spec))})")
    n, d = sizes(scale), datetime.combine(day, datetime.min.time()) if day else INITIAL_AS_OF
    values = LISTS | n | {f"top_{table}": top[table] for table in KEYS}
    for table, (start, end, hours, salt) in CALENDAR.items():
        if batch:
            start, end = (d + timedelta(hours=hour) for hour in hours)
        count, first = n[f"new_{table}" if batch else table], top[table] + 1
        values[f"new_{table}"] = f"g_spread({first}, {count}, {ts(start)}, {ts(end)}, '{salt}')"
        values[f"n_{table}"] = top[table] + count
    values |= {
        "seed": seed, "batch": batch, "loaded_at": ts(loaded_at), "day": ts(d),
        "cap": ts(d + timedelta(days=1 if batch else 0, seconds=-1)),
        "stamp": f"_batch_id = {batch}, _loaded_at = {ts(loaded_at)}",
        "customers_from": ts(CUSTOMERS_FROM),
    }  # fmt: skip
    blocks = ("macros", "customers", "products", "increment" if batch else "initial", "orders")
    con.execute("".join(sql[block] for block in blocks).format(**values))
    return top


def describe(con: Any, batch: int, top: dict[str, int]) -> dict[str, Any]:
    """The manifest's entry of each table (the initial load's has the same keys, empty)."""

    def ids(temp: str | None, key: str) -> tuple[int, list[int]]:
        if not (batch and temp):
            return 0, []
        sql = f"SELECT count(*), coalesce(list({key} ORDER BY {key}), []) FROM {temp}"
        total, listed = con.execute(sql).fetchone()
        return total, listed[:ID_LIST_LIMIT]

    tables, totals = {}, {}
    for table, key in KEYS.items():
        (n_upd, upd), (n_del, dele) = (ids(temp, key) for temp in CHANGES[table])
        n, *totals[table] = con.execute(
            f"SELECT count(*) FILTER ({key} > {top[table]}), count(*), "
            f"count(*) FILTER (NOT _is_deleted) FROM raw.{table}"
        ).fetchone()
        tables[table] = {
            "inserted": n, "updated": n_upd, "soft_deleted": n_del,
            "inserted_id_range": [top[table] + 1, top[table] + n] if n else None,
            "updated_ids": upd, "soft_deleted_ids": dele,
            "ids_truncated": n_upd > len(upd) or n_del > len(dele),
        }  # fmt: skip
    for table, name, sql in DETAILS:
        tables[table][name] = {str(k): v for k, v in con.execute(sql).fetchall()} if batch else {}
    for table, entry in tables.items():
        entry["rows"], entry["live_rows"] = totals[table]
    statuses = "SELECT status, count(*) FROM raw.orders WHERE NOT _is_deleted GROUP BY 1 ORDER BY 1"
    tables["orders"]["live_status_counts"] = dict(con.execute(statuses).fetchall())
    return tables


# --------------------------------------------------------------------------- command line


def parse(option: str, text: str | None) -> Any:
    convert, valid = OPTIONS[option]
    try:
        value = None if text is None else convert(text)
    except ValueError:
        raise Failure(option, text=text) from None
    if value is not None and not valid(value):
        raise Failure(option, text=text)
    if option == "scale" and value and value > MAX_SCALE:
        raise Failure("large", text=text, max=MAX_SCALE)
    return value


def connect(duckdb: Any, path: Path, read_only: bool = False) -> Any:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as error:
        raise Failure("locked", 1, path=path, error=error) from error


def series(duckdb: Any, path: Path, batch: int) -> dict[str, Any]:
    """The state of the series in `path`; its "error" says why increment `batch` may not land."""
    state: dict[str, Any] = {"path": path, "batch": batch, "previous": batch - 1}
    if not path.exists():
        return state | {"error": "missing"}
    con = connect(duckdb, path, read_only=True)
    try:
        present = dict(con.execute(
            "SELECT table_name, list(column_name ORDER BY ordinal_position) "
            "FROM information_schema.columns WHERE table_schema = 'raw' GROUP BY ALL"
        ).fetchall())  # fmt: skip
        if not any(table in present for table in [*TABLES, "_load_log"]):
            return state | {"error": "empty"}
        if "_load_log" not in present:
            return state | {"error": "foreign"}
        for table, spec in TABLES.items():
            if present.get(table) != [name for name, _ in spec]:
                names = ", ".join(name for name, _ in spec)
                return state | {"error": "columns", "table": table, "names": names}
        log = con.execute("SELECT batch_id, seed, scale FROM raw._load_log ORDER BY 1").fetchall()
        if not log or [row[0] for row in log] != list(range(len(log))):
            return state | {"error": "log"}
        batches = " UNION ALL ".join(f"SELECT max(_batch_id) FROM raw.{table}" for table in TABLES)
        landed = con.execute(f"SELECT coalesce(max(b), 0) FROM ({batches}) AS t(b)").fetchone()[0]
    finally:
        con.close()
    last = log[-1][0]
    state |= dict(seed=log[0][1], scale=log[0][2], last=last, next=last + 1, landed=landed)
    errors = {"ahead": landed > last, "landed": batch <= last, "gap": batch != last + 1}
    return state | {"error": next((error for error, found in errors.items() if found), None)}


def run(args: argparse.Namespace) -> tuple[dict[str, Any], Path]:
    started = time.perf_counter()
    given = {"seed": parse("seed", args.seed), "scale": parse("scale", args.scale)}
    batch = parse("increment", args.increment) or 0
    path = Path(args.database or os.environ.get("DBT_DUCKDB_PATH") or DEFAULT_DATABASE)
    path = path.expanduser().resolve()
    schema = path.stem.lower()
    if schema in {"raw", "staging", "intermediate", "marts", "snapshots"}:
        raise Failure("clash", path=path, schema=schema)
    try:
        import duckdb
    except ImportError as error:
        raise Failure("no_duckdb", 1) from error
    sql = statements()
    state = series(duckdb, path, batch) if batch else {"error": None}
    if state["error"]:
        raise Failure(state["error"], **state)
    for option, value in given.items():
        if batch and value is not None and value != state[option]:
            typed = [str(v) if isinstance(v, int) else f"{v:g}" for v in (value, state[option])]
            raise Failure("differs", option=option, given=typed[0], landed=typed[1])
    seed = state["seed"] if batch else DEFAULT_SEED if given["seed"] is None else given["seed"]
    scale = state["scale"] if batch else given["scale"] or DEFAULT_SCALE
    day = FIRST_INCREMENT_DAY + timedelta(days=batch - 1) if batch else None
    kind = "increment" if batch else "initial"

    path.parent.mkdir(parents=True, exist_ok=True)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    con = connect(duckdb, path)
    try:
        con.execute("BEGIN TRANSACTION")
        tables = describe(con, batch, load(con, sql, seed, scale, batch, loaded_at, day))
        counts = {t: {k: e[k] for k in ("inserted", "updated", "soft_deleted")}
                  for t, e in tables.items()}  # fmt: skip
        con.execute(
            "INSERT INTO raw._load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [batch, kind, loaded_at, day, seed, scale, GENERATOR_VERSION,
             json.dumps(counts, sort_keys=True)],
        )  # fmt: skip
        con.execute("COMMIT")
    except duckdb.Error as error:
        con.execute("ROLLBACK")
        raise Failure("failed", 1, error=error) from error
    finally:
        con.close()

    manifest = {
        "batch_id": batch, "kind": kind, "seed": seed, "scale": scale,
        "business_date": day.isoformat() if day else None, "loaded_at": loaded_at.isoformat(),
        "database": str(path), "generator_version": GENERATOR_VERSION,
        "id_list_limit": ID_LIST_LIMIT, "seconds": round(time.perf_counter() - started, 3),
        "tables": tables,
    }  # fmt: skip
    loads = path.parent / "loads"
    loads.mkdir(exist_ok=True)
    if not batch:  # a new series: the manifests of an earlier one no longer describe the data
        for old in loads.glob("batch_*.json"):
            if re.fullmatch(r"batch_\d+\.json", old.name):
                old.unlink()
    manifest_path = loads / f"batch_{batch}.json"
    manifest_path.write_text(to_json(manifest) + "\n")
    return manifest, manifest_path


def to_json(manifest: dict[str, Any]) -> str:
    """The manifest as indented JSON, each list of ids on one line."""
    text = json.dumps(manifest, indent=2)
    return re.sub(
        r"\[\s+([-\d,\s]*?)\s+\]", lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text
    )


def summary(manifest: dict[str, Any], manifest_path: Path) -> str:
    batch, day = manifest["batch_id"], manifest["business_date"]
    what = f"increment {batch} (business day {day})" if batch else "the initial load (batch 0)"
    lines = [
        f"Landed {what}, seed {manifest['seed']}, scale {manifest['scale']:g}, into "
        f"{manifest['database']} (schema raw) in {manifest['seconds']:.2f} s:",
        f"  {'table':<12} {'inserted':>10} {'updated':>10} {'soft-deleted':>13} {'rows':>11}",
    ]
    for table, e in manifest["tables"].items():
        counts = (e["inserted"], e["updated"], e["soft_deleted"], e["rows"])
        lines.append(
            f"  {table:<12} {counts[0]:>10,} {counts[1]:>10,} {counts[2]:>13,} {counts[3]:>11,}"
        )
    lines.append(f"Manifest: {manifest_path}. Next: --increment {batch + 1}.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="generate_data.py", description=HELP["description"], epilog=HELP["epilog"]
    )
    for option, metavar in (("database", "PATH"), ("scale", "S"), ("seed", "N")):
        parser.add_argument(f"--{option}", metavar=metavar, help=HELP[option])
    parser.add_argument("--increment", metavar="N", help=HELP["increment"])
    parser.add_argument("--json", action="store_true", help=HELP["json"])
    args = parser.parse_args(argv)
    try:
        manifest, manifest_path = run(args)
    except Failure as error:
        print(f"generate_data.py: error: {error}", file=sys.stderr)
        return error.status
    print(to_json(manifest) if args.json else summary(manifest, manifest_path))
    if args.json:
        print(summary(manifest, manifest_path), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
