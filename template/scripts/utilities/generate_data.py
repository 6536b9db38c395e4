#!/usr/bin/env python3
"""Land the sample shop's raw tables in DuckDB, the way a replication tool lands them.

The initial load (batch 0) creates the five tables of schema ``raw`` (customers, products,
orders, order_items, payments) with a year of orders (2025). ``--increment N`` then applies
the changes of business day N (2026-01-01 is day 1) as upserts: new rows with fresh ids,
updates of existing rows (order status lifecycle, product prices, customer email/address) and
soft deletes (``_is_deleted = true``, the row is kept) of some orders with their items and
payments. Every touched row gets ``_batch_id = N``, a newer ``updated_at`` and the wall-clock
``_loaded_at``.

Every business column is a function of (--seed, --scale, batch): the values come from hashes
computed by DuckDB over ``range()``, so scale 80 (about 1,000,000 order items) lands in
seconds. Only ``_loaded_at`` differs between two runs.

Each load is recorded in ``raw._load_log`` and described by a JSON manifest written to
``<database folder>/loads/batch_<N>.json`` (and to stdout with ``--json``).

Exit status: 0 on success, 2 on a bad argument or a database state that does not allow the
load (nothing is written then), 1 when the database cannot be opened or the load fails (the
load is one transaction: nothing of it remains).
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
DEFAULT_SEED = 42
DEFAULT_SCALE = 1.0
MAX_SCALE = 1000.0
DEFAULT_DATABASE = ".local/warehouse.duckdb"
#: Manifests list at most this many ids per change kind; the counts are always exact.
ID_LIST_LIMIT = 1000

# Sizes at scale 1 (the contract); everything scales linearly, products are capped.
CUSTOMERS_PER_SCALE = 1000
PRODUCTS_PER_SCALE = 200
PRODUCTS_CAP = 20_000
ORDERS_PER_SCALE = 5000

# The calendar: customers sign up over 2024-2025, products exist from mid-2023, the initial
# load holds the orders of 2025, increment N is the business day 2026-01-01 + (N - 1) days.
CUSTOMERS_FROM = datetime(2024, 1, 1)
PRODUCTS_FROM = datetime(2023, 6, 1)
ORDERS_FROM = datetime(2025, 1, 1)
INITIAL_AS_OF = datetime(2026, 1, 1)
FIRST_INCREMENT_DAY = date(2026, 1, 1)

TABLES: dict[str, list[tuple[str, str]]] = {
    "customers": [
        ("customer_id", "BIGINT"),
        ("first_name", "VARCHAR"),
        ("last_name", "VARCHAR"),
        ("email", "VARCHAR"),
        ("phone", "VARCHAR"),
        ("street", "VARCHAR"),
        ("city", "VARCHAR"),
        ("country_code", "VARCHAR(2)"),
        ("created_at", "TIMESTAMP"),
        ("updated_at", "TIMESTAMP"),
    ],
    "products": [
        ("product_id", "BIGINT"),
        ("sku", "VARCHAR"),
        ("product_name", "VARCHAR"),
        ("category", "VARCHAR"),
        ("unit_price", "DECIMAL(12,2)"),
        ("created_at", "TIMESTAMP"),
        ("updated_at", "TIMESTAMP"),
    ],
    "orders": [
        ("order_id", "BIGINT"),
        ("customer_id", "BIGINT"),
        ("ordered_at", "TIMESTAMP"),
        ("status", "VARCHAR"),
        ("shipping_country_code", "VARCHAR(2)"),
        ("updated_at", "TIMESTAMP"),
    ],
    "order_items": [
        ("order_item_id", "BIGINT"),
        ("order_id", "BIGINT"),
        ("product_id", "BIGINT"),
        ("quantity", "INTEGER"),
        ("unit_price", "DECIMAL(12,2)"),
        ("discount_pct", "DECIMAL(5,2)"),
        ("updated_at", "TIMESTAMP"),
    ],
    "payments": [
        ("payment_id", "BIGINT"),
        ("order_id", "BIGINT"),
        ("payment_method", "VARCHAR"),
        ("amount", "DECIMAL(12,2)"),
        ("paid_at", "TIMESTAMP"),
        ("updated_at", "TIMESTAMP"),
    ],
}
REPLICATION_COLUMNS = [
    ("_is_deleted", "BOOLEAN"),
    ("_batch_id", "INTEGER"),
    ("_loaded_at", "TIMESTAMP"),
]
for _columns in TABLES.values():
    _columns.extend(REPLICATION_COLUMNS)
KEYS = {
    "customers": "customer_id",
    "products": "product_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "payments": "payment_id",
}
LOAD_LOG_COLUMNS = [
    ("batch_id", "INTEGER"),
    ("kind", "VARCHAR"),
    ("loaded_at", "TIMESTAMP"),
    ("business_date", "DATE"),
    ("seed", "BIGINT"),
    ("scale", "DOUBLE"),
    ("generator_version", "INTEGER"),
    ("counts", "VARCHAR"),
]

ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
PAYMENT_METHODS = ("card", "paypal", "bank_transfer", "gift_card")
# Country codes: exactly the rows of dbt/seeds/country_codes.csv. Weights sum to 100.
COUNTRIES = ("US", "CA", "GB", "DE", "FR", "NL", "ES", "IT", "SE", "AU")
COUNTRY_WEIGHTS = (30, 8, 12, 12, 10, 6, 7, 7, 4, 4)
CITIES_PER_COUNTRY = 5
CITIES = {
    "US": ("New York", "Chicago", "Austin", "Seattle", "Denver"),
    "CA": ("Toronto", "Vancouver", "Montreal", "Calgary", "Ottawa"),
    "GB": ("London", "Manchester", "Leeds", "Bristol", "Edinburgh"),
    "DE": ("Berlin", "Hamburg", "Munich", "Cologne", "Leipzig"),
    "FR": ("Paris", "Lyon", "Marseille", "Toulouse", "Nantes"),
    "NL": ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Groningen"),
    "ES": ("Madrid", "Barcelona", "Valencia", "Seville", "Bilbao"),
    "IT": ("Rome", "Milan", "Naples", "Turin", "Bologna"),
    "SE": ("Stockholm", "Gothenburg", "Malmo", "Uppsala", "Lund"),
    "AU": ("Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide"),
}
FIRST_NAMES = (
    "Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Isla", "Jonas",
    "Karin", "Liam", "Maria", "Noah", "Olivia", "Pablo", "Quinn", "Rosa", "Sven", "Tara",
    "Umar", "Vera", "Wei", "Xenia", "Yusuf", "Zoe", "Lucas", "Sofia", "Matteo", "Lena",
    "Amara", "Oscar", "Priya", "Tomas", "Elif", "Kenji", "Ines", "Mateo", "Freya", "Omar",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Martin", "Mueller", "Schmidt", "Dubois",
    "Bernard", "Garcia", "Lopez", "Rossi", "Bianchi", "Jansen", "Bakker", "Andersson",
    "Nilsson", "Kowalski", "Novak", "Murphy", "Walsh", "Chen", "Nguyen", "Patel", "Khan",
    "Cohen", "Silva", "Costa", "Young", "King", "Wright", "Scott", "Green", "Baker", "Moreau",
    "Fischer", "Weber", "Ricci", "Visser",
)  # fmt: skip
STREET_NAMES = (
    "Maple", "Oak", "Station", "Church", "Mill", "Park", "High", "Elm", "Willow", "Cedar",
    "Harbour", "Bridge", "Garden", "Meadow", "River", "Hill", "Lake", "Forest", "Market",
    "Orchard", "Chapel", "Victoria", "Queen", "King",
)  # fmt: skip
STREET_SUFFIXES = ("Street", "Road", "Avenue", "Lane", "Way")
# (category, SKU prefix, lowest and highest price in whole units; prices end in .99)
CATEGORIES = (
    ("books", "BOO", 4, 59),
    ("electronics", "ELE", 9, 1499),
    ("home", "HOM", 4, 299),
    ("toys", "TOY", 2, 99),
    ("sports", "SPO", 4, 199),
    ("beauty", "BEA", 2, 129),
)
NOUNS_PER_CATEGORY = 8
PRODUCT_NOUNS = {
    "books": ("Novel", "Cookbook", "Atlas", "Biography", "Field Guide", "Poetry Collection",
              "Travel Guide", "Graphic Novel"),
    "electronics": ("Headphones", "Speaker", "Charger", "Keyboard", "Mouse", "Monitor",
                    "Webcam", "Power Bank"),
    "home": ("Lamp", "Cushion", "Kettle", "Vase", "Blanket", "Frying Pan", "Mug Set", "Clock"),
    "toys": ("Puzzle", "Building Set", "Plush Bear", "Kite", "Board Game", "Yo-Yo", "Toy Car",
             "Puppet"),
    "sports": ("Yoga Mat", "Football", "Water Bottle", "Tennis Racket", "Dumbbell Set",
               "Running Cap", "Jump Rope", "Bike Light"),
    "beauty": ("Face Cream", "Shampoo", "Lip Balm", "Perfume", "Hand Soap", "Sunscreen",
               "Hair Brush", "Nail Kit"),
}  # fmt: skip
ADJECTIVES = (
    "Classic", "Deluxe", "Compact", "Eco", "Pro", "Mini", "Vintage", "Smart", "Essential",
    "Premium", "Everyday", "Travel",
)  # fmt: skip


class UsageError(Exception):
    """A bad argument or database state: exit status 2, nothing written."""


class LoadError(Exception):
    """The database cannot be opened or the load failed: exit status 1."""


# --------------------------------------------------------------------------- arguments


def sizes(scale: float) -> dict[str, int]:
    """Row counts of the initial load at a scale (order_items and payments follow orders)."""
    return {
        "customers": max(1, round(CUSTOMERS_PER_SCALE * scale)),
        "products": max(1, min(PRODUCTS_CAP, round(PRODUCTS_PER_SCALE * scale))),
        "orders": max(1, round(ORDERS_PER_SCALE * scale)),
    }


def increment_sizes(scale: float) -> dict[str, int]:
    """Changes of one increment (a business day); status changes follow the open orders."""
    base = sizes(scale)
    return {
        "new_customers": max(1, round(base["customers"] * 0.02)),
        "customer_updates": max(1, round(base["customers"] * 0.02)),
        "new_products": max(1, round(base["products"] * 0.01)),
        "price_updates": max(1, round(base["products"] * 0.02)),
        "new_orders": max(1, round(base["orders"] * 0.02)),
        "deleted_orders": max(1, round(base["orders"] * 0.001)),
    }


def parse_scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise UsageError(
            f"--scale must be a positive number (got {text}): "
            "use 1 for the demo size, 80 for ~1M order items"
        )
    if value > MAX_SCALE:
        raise UsageError(
            f"--scale must be at most {MAX_SCALE:g} (got {text}): "
            "use 80 for ~1M order items, 800 for ~10M"
        )
    return value


def parse_seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**63:
        raise UsageError(
            f"--seed must be a whole number from 0 to 2**63-1 (got {text}): e.g. --seed 42"
        )
    return value


def parse_increment(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(
            f"--increment must be a whole number >= 1 (got {text}): "
            "leave --increment out for the initial load (batch 0)"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="generate_data.py",
        description=(
            "Land the sample shop's raw tables (customers, products, orders, order_items, "
            "payments) in schema raw of a DuckDB file, as a replication tool lands them: "
            "the initial load (batch 0, the orders of 2025), then increments (one business "
            "day each, from 2026-01-01) of inserts, updates and soft deletes."
        ),
        epilog=(
            "Sizes at scale 1: 1,000 customers, 200 products (capped at 20,000), 5,000 orders, "
            "~12,500 order_items (1-4 per order), one payment per non-cancelled order; all "
            "linear in --scale (80 gives ~1M order_items). An increment adds 2%% new "
            "customers, 1%% new products and 2%% new orders of those sizes, updates 2%% of "
            "customers (email, street/city) and of product prices, moves open orders along "
            "placed -> paid -> shipped -> delivered (or cancelled/returned) and soft-deletes "
            "0.1%% of orders with their items and payments. "
            "Each load writes <database folder>/loads/batch_<N>.json and a row of "
            "raw._load_log. Exit status: 0 success, 2 bad argument or database state "
            "(nothing written), 1 the database cannot be opened or the load failed "
            "(rolled back). Examples: generate_data.py --scale 0.1; "
            "generate_data.py --increment 1; generate_data.py --scale 80 --json > batch_0.json"
        ),
    )
    parser.add_argument(
        "--database",
        metavar="PATH",
        help=(
            "the DuckDB file (created with its folders if missing); default: "
            f"$DBT_DUCKDB_PATH, else {DEFAULT_DATABASE}"
        ),
    )
    parser.add_argument(
        "--scale",
        metavar="S",
        help=(
            "size factor, a positive number (0.1, 1, 80); default 1 for the initial load; "
            "an increment uses the scale of the initial load"
        ),
    )
    parser.add_argument(
        "--seed",
        metavar="N",
        help=(
            f"seed of every generated value; default {DEFAULT_SEED} for the initial load; "
            "an increment uses the seed of the initial load"
        ),
    )
    parser.add_argument(
        "--increment",
        metavar="N",
        help=(
            "land increment N (>= 1) on top of the existing tables instead of the initial "
            "load; increment N-1 must have been landed before"
        ),
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the manifest as JSON on stdout (the summary then goes to stderr)",
    )
    return parser


# --------------------------------------------------------------------------- SQL helpers


def sql_list(values: Sequence[Any]) -> str:
    """A DuckDB list literal of strings or integers."""
    items = []
    for value in values:
        if isinstance(value, str):
            items.append("'" + value.replace("'", "''") + "'")
        else:
            items.append(str(int(value)))
    return "[" + ", ".join(items) + "]"


def ts(value: datetime) -> str:
    return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S.%f}'"


def changed(con: Any, sql: str) -> int:
    """Run an INSERT or UPDATE and return the number of rows it wrote."""
    return con.execute(sql).fetchone()[0]


def define_macros(con: Any, seed: int, batch: int) -> None:
    """Hash-based pseudo-random helpers: the same (seed, batch, salt, id) gives the same value.

    g_pick(salt, id, n) is an integer in [0, n); g_unit(salt, id) a number in [0, 1).
    """
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO g_hash(salt, id) AS "
        f"hash({seed}::UBIGINT, {batch}::INTEGER, salt, id::BIGINT)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO g_pick(salt, id, n) AS "
        "(g_hash(salt, id) % greatest(1, n)::UBIGINT)::BIGINT"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO g_unit(salt, id) AS "
        "(g_hash(salt, id) % 1000000)::DOUBLE / 1000000"
    )


COUNTRY_INDEX_BUCKETS = sql_list([i for i, w in enumerate(COUNTRY_WEIGHTS) for _ in range(w)])
COUNTRY_LIST = sql_list(COUNTRIES)
CITY_LIST = sql_list([city for code in COUNTRIES for city in CITIES[code]])
FIRST_LIST = sql_list(FIRST_NAMES)
LAST_LIST = sql_list(LAST_NAMES)
STREET_LIST = sql_list(STREET_NAMES)
SUFFIX_LIST = sql_list(STREET_SUFFIXES)
CATEGORY_LIST = sql_list([c[0] for c in CATEGORIES])
SKU_PREFIX_LIST = sql_list([c[1] for c in CATEGORIES])
PRICE_LOW_LIST = sql_list([c[2] for c in CATEGORIES])
PRICE_HIGH_LIST = sql_list([c[3] for c in CATEGORIES])
NOUN_LIST = sql_list([n for c in CATEGORIES for n in PRODUCT_NOUNS[c[0]]])
ADJECTIVE_LIST = sql_list(ADJECTIVES)


def street_sql(key: str, salt: str) -> str:
    return (
        f"(1 + g_pick('{salt}_no', {key}, 240))::VARCHAR || ' ' || "
        f"{STREET_LIST}[1 + g_pick('{salt}_name', {key}, {len(STREET_NAMES)})] || ' ' || "
        f"{SUFFIX_LIST}[1 + g_pick('{salt}_suffix', {key}, {len(STREET_SUFFIXES)})]"
    )


def insert_customers(con: Any, source: str, loaded_at: datetime, batch: int) -> None:
    """Insert customers for `source`, a query of (customer_id, created_at)."""
    con.execute(f"""
        INSERT INTO raw.customers
        WITH src AS ({source}),
        picked AS (
            SELECT
                customer_id,
                created_at,
                {FIRST_LIST}[1 + g_pick('first_name', customer_id, {len(FIRST_NAMES)})]
                    AS first_name,
                {LAST_LIST}[1 + g_pick('last_name', customer_id, {len(LAST_NAMES)})]
                    AS last_name,
                {COUNTRY_INDEX_BUCKETS}[1 + g_pick('country', customer_id, 100)] AS ci,
                g_pick('city', customer_id, {CITIES_PER_COUNTRY}) AS city_pos,
                g_pick('phone', customer_id, 1000000) AS ph,
                CASE WHEN g_pick('domain', customer_id, 4) = 0
                    THEN 'example.org' ELSE 'example.com' END AS domain
            FROM src
        )
        SELECT
            customer_id,
            first_name,
            last_name,
            lower(first_name || '.' || last_name || '.' || customer_id || '@' || domain),
            '+1-555-01' || lpad((ph % 100)::VARCHAR, 2, '0') || '-'
                || lpad((ph // 100)::VARCHAR, 4, '0'),
            {street_sql("customer_id", "street")},
            {CITY_LIST}[1 + ci * {CITIES_PER_COUNTRY} + city_pos],
            {COUNTRY_LIST}[1 + ci],
            created_at,
            created_at,
            false,
            {batch},
            {ts(loaded_at)}
        FROM picked
        ORDER BY customer_id
    """)


def insert_products(con: Any, source: str, loaded_at: datetime, batch: int) -> None:
    """Insert products for `source`, a query of (product_id, created_at)."""
    con.execute(f"""
        INSERT INTO raw.products
        WITH src AS ({source}),
        picked AS (
            SELECT
                product_id,
                created_at,
                g_pick('category', product_id, {len(CATEGORIES)}) AS cat,
                g_unit('price', product_id) AS r
            FROM src
        )
        SELECT
            product_id,
            {SKU_PREFIX_LIST}[1 + cat] || '-' || lpad(product_id::VARCHAR, 6, '0'),
            {ADJECTIVE_LIST}[1 + g_pick('adjective', product_id, {len(ADJECTIVES)})] || ' '
                || {NOUN_LIST}[1 + cat * {NOUNS_PER_CATEGORY}
                    + g_pick('noun', product_id, {NOUNS_PER_CATEGORY})],
            {CATEGORY_LIST}[1 + cat],
            (({PRICE_LOW_LIST}[1 + cat] + floor(
                ({PRICE_HIGH_LIST}[1 + cat] - {PRICE_LOW_LIST}[1 + cat]) * r * r
            )::BIGINT) * 100 + 99) * 0.01,
            created_at,
            created_at,
            false,
            {batch},
            {ts(loaded_at)}
        FROM picked
        ORDER BY product_id
    """)


def insert_orders_items_payments(
    con: Any, loaded_at: datetime, batch: int, cap: datetime, counts: dict[str, int]
) -> None:
    """Insert temp table _new_orders into raw.orders, with its items and payments.

    _new_orders holds (order_id, customer_id, ordered_at, status, updated_at); items take the
    products' current prices, ids continue after the current maximum.
    """
    n_products = con.execute("SELECT max(product_id) FROM raw.products").fetchone()[0]
    item_offset = con.execute("SELECT coalesce(max(order_item_id), 0) FROM raw.order_items")
    item_offset = item_offset.fetchone()[0]
    payment_offset = con.execute("SELECT coalesce(max(payment_id), 0) FROM raw.payments")
    payment_offset = payment_offset.fetchone()[0]
    counts["orders"] = changed(
        con,
        f"""
        INSERT INTO raw.orders
        SELECT
            o.order_id,
            o.customer_id,
            o.ordered_at,
            o.status,
            CASE WHEN g_unit('ship_abroad', o.order_id) < 0.9 THEN c.country_code
                ELSE {COUNTRY_LIST}[1 + g_pick('ship_country', o.order_id, {len(COUNTRIES)})]
            END,
            o.updated_at,
            false,
            {batch},
            {ts(loaded_at)}
        FROM _new_orders AS o
        JOIN raw.customers AS c ON c.customer_id = o.customer_id
        ORDER BY o.order_id
    """,
    )
    counts["order_items"] = changed(
        con,
        f"""
        INSERT INTO raw.order_items
        WITH lines AS (
            SELECT
                o.order_id,
                o.ordered_at,
                l.line,
                1 + (g_pick('product', o.order_id, {n_products})
                    + (l.line - 1) * (1 + g_pick('product_step', o.order_id, {n_products} // 4))
                ) % {n_products} AS product_id,
                g_unit('quantity', o.order_id * 4 + l.line) AS rq,
                g_unit('discount', o.order_id * 4 + l.line) AS rd,
                g_pick('discount_pct', o.order_id * 4 + l.line, 4) AS dp
            FROM _new_orders AS o
            JOIN range(1, 5) AS l(line) ON l.line <= 1 + g_pick('lines', o.order_id, 4)
        )
        SELECT
            {item_offset} + row_number() OVER (ORDER BY lines.order_id, lines.line),
            lines.order_id,
            lines.product_id,
            CASE WHEN rq < 0.6 THEN 1 WHEN rq < 0.85 THEN 2 WHEN rq < 0.95 THEN 3 ELSE 4 END,
            p.unit_price,
            CASE WHEN rd < 0.7 THEN 0 ELSE 5 * (1 + dp) END,
            lines.ordered_at,
            false,
            {batch},
            {ts(loaded_at)}
        FROM lines
        JOIN raw.products AS p ON p.product_id = lines.product_id
        ORDER BY 1
    """,
    )
    counts["payments"] = changed(
        con,
        f"""
        INSERT INTO raw.payments
        WITH amounts AS (
            SELECT i.order_id,
                sum(round(i.quantity * i.unit_price * (1 - i.discount_pct * 0.01), 2)) AS amount
            FROM raw.order_items AS i
            WHERE i.order_id IN (SELECT order_id FROM _new_orders)
            GROUP BY i.order_id
        ),
        picked AS (
            SELECT o.order_id, o.ordered_at, a.amount, g_unit('payment_method', o.order_id) AS r
            FROM _new_orders AS o
            JOIN amounts AS a ON a.order_id = o.order_id
            WHERE o.status <> 'cancelled'
        ),
        methods AS (
            SELECT *,
                CASE WHEN r < 0.55 THEN 'card' WHEN r < 0.8 THEN 'paypal'
                    WHEN r < 0.92 THEN 'bank_transfer' ELSE 'gift_card' END AS method
            FROM picked
        ),
        timed AS (
            SELECT *,
                least(
                    ordered_at + to_seconds(CASE WHEN method = 'bank_transfer'
                        THEN 600 + g_pick('paid_after', order_id, 6600)
                        ELSE 5 + g_pick('paid_after', order_id, 295) END),
                    {ts(cap)}
                ) AS paid_at
            FROM methods
        )
        SELECT
            {payment_offset} + row_number() OVER (ORDER BY order_id),
            order_id,
            method,
            amount,
            paid_at,
            paid_at,
            false,
            {batch},
            {ts(loaded_at)}
        FROM timed
        ORDER BY order_id
    """,
    )


# --------------------------------------------------------------------------- loads


def create_tables(con: Any) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    for table, columns in TABLES.items():
        ddl = ", ".join(f"{name} {kind}" for name, kind in columns)
        con.execute(f"CREATE OR REPLACE TABLE raw.{table} ({ddl})")
    ddl = ", ".join(f"{name} {kind}" for name, kind in LOAD_LOG_COLUMNS)
    con.execute(f"CREATE OR REPLACE TABLE raw._load_log ({ddl})")


def initial_load(con: Any, scale: float, loaded_at: datetime) -> dict[str, Any]:
    """Batch 0: a fresh set of the five tables, the orders of 2025."""
    n = sizes(scale)
    cap = INITIAL_AS_OF - timedelta(seconds=1)
    create_tables(con)
    customer_span = int((INITIAL_AS_OF - CUSTOMERS_FROM).total_seconds())
    product_span = int((ORDERS_FROM - PRODUCTS_FROM).total_seconds())
    order_span = int((INITIAL_AS_OF - ORDERS_FROM).total_seconds())
    # Ids grow with time: id i is created in the i-th slice of the period.
    insert_customers(
        con,
        f"SELECT range + 1 AS customer_id, {ts(CUSTOMERS_FROM)} + to_seconds(floor("
        f"(range + g_unit('created_at', range + 1)) * {customer_span} / {n['customers']}"
        f")::BIGINT) AS created_at FROM range({n['customers']})",
        loaded_at,
        0,
    )
    insert_products(
        con,
        f"SELECT range + 1 AS product_id, {ts(PRODUCTS_FROM)} + to_seconds(floor("
        f"(range + g_unit('created_at', range + 1)) * {product_span} / {n['products']}"
        f")::BIGINT) AS created_at FROM range({n['products']})",
        loaded_at,
        0,
    )
    # An order picks one of the customers signed up before it (customer ids grow with time);
    # its status follows its age on 2026-01-01: recent orders are still open.
    offset_of_orders = int((ORDERS_FROM - CUSTOMERS_FROM).total_seconds())
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _new_orders AS
        WITH timed AS (
            SELECT
                range + 1 AS order_id,
                floor((range + g_unit('ordered_at', range + 1)) * {order_span} / {n["orders"]}
                )::BIGINT AS s
            FROM range({n["orders"]})
        ),
        aged AS (
            SELECT
                order_id,
                {ts(ORDERS_FROM)} + to_seconds(s) AS ordered_at,
                ({order_span} - s) / 3600.0 AS age_h,
                1 + g_pick('customer', order_id, floor(
                    ({offset_of_orders} + s) * {n["customers"]}::HUGEINT / {customer_span}
                )::BIGINT) AS customer_id,
                g_unit('status', order_id) AS r
            FROM timed
        ),
        statused AS (
            SELECT *,
                CASE
                    WHEN r < 0.04 THEN 'cancelled'
                    WHEN age_h < 2 THEN CASE WHEN r < 0.5 THEN 'placed' ELSE 'paid' END
                    WHEN age_h < 24 THEN 'paid'
                    WHEN age_h < 72 THEN CASE WHEN r < 0.3 THEN 'paid' ELSE 'shipped' END
                    WHEN age_h < 168 THEN CASE WHEN r < 0.55 THEN 'shipped' ELSE 'delivered' END
                    WHEN age_h >= 600 AND r >= 0.97 THEN 'returned'
                    ELSE 'delivered'
                END AS status
            FROM aged
        )
        SELECT
            order_id,
            customer_id,
            ordered_at,
            status,
            least(ordered_at + to_seconds(CASE status
                WHEN 'placed' THEN 0
                WHEN 'paid' THEN 300 + g_pick('status_after', order_id, 3300)
                WHEN 'shipped' THEN 86400 + g_pick('status_after', order_id, 86400)
                WHEN 'delivered' THEN 259200 + g_pick('status_after', order_id, 345600)
                WHEN 'cancelled' THEN 600 + g_pick('status_after', order_id, 85800)
                ELSE 864000 + g_pick('status_after', order_id, 1296000)
            END), {ts(cap)}) AS updated_at
        FROM statused
    """)
    counts = {"customers": n["customers"], "products": n["products"]}
    insert_orders_items_payments(con, loaded_at, 0, cap, counts)
    con.execute("DROP TABLE _new_orders")
    tables = {
        table: table_manifest(inserted=counts[table], first_id=1, updated=None, deleted=None)
        for table in TABLES
    }
    # The same keys as an increment's manifest, empty.
    for table in ("customers", "products", "orders"):
        tables[table]["updated_columns"] = {}
    tables["products"]["new_unit_price"] = {}
    tables["orders"]["new_status"] = {}
    tables["orders"]["status_changes"] = {}
    tables["payments"]["soft_deleted_reasons"] = {}
    return {"business_date": None, "tables": tables}


def increment_load(
    con: Any, batch: int, scale: float, loaded_at: datetime, day: date
) -> dict[str, Any]:
    """Increment `batch`: the changes of one business day, applied as upserts."""
    k = increment_sizes(scale)
    d = datetime(day.year, day.month, day.day)
    cap = d + timedelta(days=1) - timedelta(seconds=1)
    half_day = 43200
    maxima = {
        table: con.execute(f"SELECT coalesce(max({KEYS[table]}), 0) FROM raw.{table}").fetchone()[0]
        for table in TABLES
    }
    stamp = f"_batch_id = {batch}, _loaded_at = {ts(loaded_at)}"

    # New customers and products sign up / are listed in the morning.
    insert_customers(
        con,
        f"SELECT {maxima['customers']} + range + 1 AS customer_id, {ts(d)} + to_seconds(floor("
        f"(range + g_unit('created_at', range + 1)) * {half_day} / {k['new_customers']}"
        f")::BIGINT) AS created_at FROM range({k['new_customers']})",
        loaded_at,
        batch,
    )
    insert_products(
        con,
        f"SELECT {maxima['products']} + range + 1 AS product_id, {ts(d)} + to_seconds(floor("
        f"(range + g_unit('created_at', range + 1)) * {half_day} / {k['new_products']}"
        f")::BIGINT) AS created_at FROM range({k['new_products']})",
        loaded_at,
        batch,
    )

    # Customers change their email, their address (street and city, same country) or both.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _chg_customers AS
        WITH chosen AS (
            SELECT * FROM raw.customers
            WHERE customer_id <= {maxima["customers"]} AND NOT _is_deleted
            ORDER BY g_hash('customer_update', customer_id), customer_id
            LIMIT {k["customer_updates"]}
        ),
        kinds AS (
            SELECT *,
                g_unit('customer_change', customer_id) AS r,
                list_position({CITY_LIST}, city) - 1 AS g,
                lower(CASE g_pick('email_format', customer_id, 4)
                    WHEN 0 THEN first_name || '.' || last_name || '.' || customer_id
                    WHEN 1 THEN first_name || '_' || last_name || customer_id
                    WHEN 2 THEN left(first_name, 1) || '.' || last_name || '.' || customer_id
                    ELSE last_name || '.' || first_name || '.' || customer_id
                END || '@' || CASE WHEN g_pick('email_domain', customer_id, 2) = 0
                    THEN 'example.org' ELSE 'example.com' END) AS candidate_email,
                {street_sql("customer_id", "moved_street")} AS candidate_street
            FROM chosen
        ),
        changed AS (
            SELECT
                customer_id,
                r < 0.4 OR r >= 0.8 AS email_changed,
                r >= 0.4 AS address_changed,
                CASE WHEN candidate_email <> email THEN candidate_email
                    ELSE lower(first_name || '.' || last_name || '.' || customer_id || '.'
                        || {batch} || '@example.org')
                END AS new_email,
                CASE WHEN candidate_street <> street THEN candidate_street
                    ELSE '1' || candidate_street END AS new_street,
                {CITY_LIST}[1 + (g // {CITIES_PER_COUNTRY}) * {CITIES_PER_COUNTRY}
                    + (g % {CITIES_PER_COUNTRY} + 1
                        + g_pick('city_move', customer_id, {CITIES_PER_COUNTRY - 1}))
                    % {CITIES_PER_COUNTRY}] AS new_city,
                email, street, city
            FROM kinds
        )
        SELECT
            customer_id,
            CASE WHEN email_changed THEN new_email ELSE email END AS email,
            CASE WHEN address_changed THEN new_street ELSE street END AS street,
            CASE WHEN address_changed THEN new_city ELSE city END AS city,
            email_changed,
            address_changed,
            {ts(d)} + to_seconds(g_pick('customer_updated_at', customer_id, 86400))
                AS updated_at
        FROM changed
    """)
    con.execute(f"""
        UPDATE raw.customers AS c
        SET email = x.email, street = x.street, city = x.city, updated_at = x.updated_at, {stamp}
        FROM _chg_customers AS x
        WHERE c.customer_id = x.customer_id
    """)

    # Some prices move by 5-20% up or down (and keep ending in .99).
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _chg_products AS
        WITH chosen AS (
            SELECT product_id, unit_price FROM raw.products
            WHERE product_id <= {maxima["products"]} AND NOT _is_deleted
            ORDER BY g_hash('price_update', product_id), product_id
            LIMIT {k["price_updates"]}
        ),
        moved AS (
            SELECT product_id, unit_price AS old_price,
                ((greatest(0, (unit_price * 100)::BIGINT
                    * (100 + (CASE WHEN g_pick('price_up', product_id, 3) = 0 THEN -1 ELSE 1 END)
                        * (5 + g_pick('price_pct', product_id, 16))) // 10000)) * 100 + 99)
                    * 0.01 AS candidate
            FROM chosen
        )
        SELECT
            product_id,
            old_price,
            CAST(CASE WHEN candidate = old_price THEN old_price + 1 ELSE candidate END
                AS DECIMAL(12, 2)) AS unit_price,
            {ts(d)} + to_seconds(g_pick('product_updated_at', product_id, 86400)) AS updated_at
        FROM moved
    """)
    con.execute(f"""
        UPDATE raw.products AS p
        SET unit_price = x.unit_price, updated_at = x.updated_at, {stamp}
        FROM _chg_products AS x
        WHERE p.product_id = x.product_id
    """)

    # Open orders move one step along their lifecycle; recent deliveries may come back.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _chg_orders AS
        WITH candidates AS (
            SELECT order_id, status, g_unit('transition', order_id) AS r
            FROM raw.orders
            WHERE NOT _is_deleted AND order_id <= {maxima["orders"]}
                AND (status IN ('placed', 'paid', 'shipped')
                    OR (status = 'delivered' AND ordered_at >= {ts(d)} - INTERVAL 30 DAY))
        ),
        moved AS (
            SELECT order_id, status AS old_status,
                CASE status
                    WHEN 'placed' THEN CASE WHEN r < 0.08 THEN 'cancelled'
                        WHEN r < 0.9 THEN 'paid' END
                    WHEN 'paid' THEN CASE WHEN r < 0.03 THEN 'cancelled'
                        WHEN r < 0.85 THEN 'shipped' END
                    WHEN 'shipped' THEN CASE WHEN r < 0.8 THEN 'delivered' END
                    WHEN 'delivered' THEN CASE WHEN r < 0.02 THEN 'returned' END
                END AS status,
                {ts(d)} + to_seconds(g_pick('order_updated_at', order_id, 86400)) AS updated_at
            FROM candidates
        )
        SELECT * FROM moved WHERE status IS NOT NULL
    """)
    con.execute(f"""
        UPDATE raw.orders AS o
        SET status = x.status, updated_at = x.updated_at, {stamp}
        FROM _chg_orders AS x
        WHERE o.order_id = x.order_id
    """)

    # A few orders are deleted at the source (test or fraudulent orders): the replication
    # keeps them flagged, with their items and payments.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _del_orders AS
        SELECT order_id,
            {ts(d)} + to_seconds(g_pick('deleted_at', order_id, 86400)) AS updated_at
        FROM raw.orders
        WHERE NOT _is_deleted AND order_id <= {maxima["orders"]}
            AND order_id NOT IN (SELECT order_id FROM _chg_orders)
        ORDER BY g_hash('delete', order_id), order_id
        LIMIT {k["deleted_orders"]}
    """)
    con.execute(f"""
        UPDATE raw.orders AS o
        SET _is_deleted = true, updated_at = x.updated_at, {stamp}
        FROM _del_orders AS x
        WHERE o.order_id = x.order_id
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _del_items AS
        SELECT i.order_item_id, x.updated_at
        FROM raw.order_items AS i
        JOIN _del_orders AS x ON x.order_id = i.order_id
        WHERE NOT i._is_deleted
    """)
    con.execute(f"""
        UPDATE raw.order_items AS i
        SET _is_deleted = true, updated_at = x.updated_at, {stamp}
        FROM _del_items AS x
        WHERE i.order_item_id = x.order_item_id
    """)
    # The payment of a deleted or newly cancelled order is voided (soft-deleted), so a live
    # payment exists exactly for each live order that is not cancelled.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _del_payments AS
        SELECT p.payment_id, x.updated_at, x.reason
        FROM raw.payments AS p
        JOIN (
            SELECT order_id, updated_at, 'order_deleted' AS reason FROM _del_orders
            UNION ALL
            SELECT order_id, updated_at, 'order_cancelled' AS reason FROM _chg_orders
            WHERE status = 'cancelled'
        ) AS x ON x.order_id = p.order_id
        WHERE NOT p._is_deleted
    """)
    con.execute(f"""
        UPDATE raw.payments AS p
        SET _is_deleted = true, updated_at = x.updated_at, {stamp}
        FROM _del_payments AS x
        WHERE p.payment_id = x.payment_id
    """)

    # New orders come in the afternoon, from any customer (also today's new ones), mostly
    # still placed or paid; items take today's prices.
    n_customers = maxima["customers"] + k["new_customers"]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _new_orders AS
        WITH picked AS (
            SELECT
                {maxima["orders"]} + range + 1 AS order_id,
                {ts(d)} + to_seconds({half_day} + floor(
                    (range + g_unit('ordered_at', range + 1)) * {half_day} / {k["new_orders"]}
                )::BIGINT) AS ordered_at,
                g_unit('status', range + 1) AS r
            FROM range({k["new_orders"]})
        )
        SELECT
            order_id,
            1 + g_pick('customer', order_id, {n_customers}) AS customer_id,
            ordered_at,
            CASE WHEN r < 0.03 THEN 'cancelled' WHEN r < 0.55 THEN 'placed' ELSE 'paid' END
                AS status,
            least(ordered_at + to_seconds(CASE WHEN r < 0.55 AND r >= 0.03 THEN 0
                ELSE 300 + g_pick('status_after', order_id, 3300) END), {ts(cap)})
                AS updated_at
        FROM picked
    """)
    counts: dict[str, int] = {}
    insert_orders_items_payments(con, loaded_at, batch, cap, counts)

    def ids(sql: str) -> tuple[int, list[int]]:
        total = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
        rows = con.execute(f"SELECT * FROM ({sql}) ORDER BY 1 LIMIT {ID_LIST_LIMIT}")
        return total, [row[0] for row in rows.fetchall()]

    tables: dict[str, dict[str, Any]] = {}
    tables["customers"] = table_manifest(
        inserted=k["new_customers"],
        first_id=maxima["customers"] + 1,
        updated=ids("SELECT customer_id FROM _chg_customers"),
        deleted=(0, []),
    )
    tables["customers"]["updated_columns"] = dict(
        zip(
            ("email", "street", "city"),
            con.execute(
                "SELECT count(*) FILTER (email_changed), count(*) FILTER (address_changed), "
                "count(*) FILTER (address_changed) FROM _chg_customers"
            ).fetchone(),
            strict=True,
        )
    )
    tables["products"] = table_manifest(
        inserted=k["new_products"],
        first_id=maxima["products"] + 1,
        updated=ids("SELECT product_id FROM _chg_products"),
        deleted=(0, []),
    )
    tables["products"]["updated_columns"] = {"unit_price": tables["products"]["updated"]}
    tables["products"]["new_unit_price"] = {
        str(pid): str(price)
        for pid, price in con.execute(
            f"SELECT product_id, unit_price FROM _chg_products ORDER BY 1 LIMIT {ID_LIST_LIMIT}"
        ).fetchall()
    }
    tables["orders"] = table_manifest(
        inserted=counts["orders"],
        first_id=maxima["orders"] + 1,
        updated=ids("SELECT order_id FROM _chg_orders"),
        deleted=ids("SELECT order_id FROM _del_orders"),
    )
    tables["orders"]["updated_columns"] = {"status": tables["orders"]["updated"]}
    tables["orders"]["new_status"] = {
        str(oid): status
        for oid, status in con.execute(
            f"SELECT order_id, status FROM _chg_orders ORDER BY 1 LIMIT {ID_LIST_LIMIT}"
        ).fetchall()
    }
    tables["orders"]["status_changes"] = {
        f"{old}->{new}": n
        for old, new, n in con.execute(
            "SELECT old_status, status, count(*) FROM _chg_orders GROUP BY ALL ORDER BY 1, 2"
        ).fetchall()
    }
    tables["order_items"] = table_manifest(
        inserted=counts["order_items"],
        first_id=maxima["order_items"] + 1,
        updated=(0, []),
        deleted=ids("SELECT order_item_id FROM _del_items"),
    )
    tables["payments"] = table_manifest(
        inserted=counts["payments"],
        first_id=maxima["payments"] + 1,
        updated=(0, []),
        deleted=ids("SELECT payment_id FROM _del_payments"),
    )
    tables["payments"]["soft_deleted_reasons"] = dict(
        con.execute("SELECT reason, count(*) FROM _del_payments GROUP BY ALL ORDER BY 1").fetchall()
    )
    for temp in (
        "_chg_customers",
        "_chg_products",
        "_chg_orders",
        "_del_orders",
        "_del_items",
        "_del_payments",
        "_new_orders",
    ):
        con.execute(f"DROP TABLE {temp}")
    return {"business_date": day.isoformat(), "tables": tables}


def table_manifest(
    inserted: int,
    first_id: int,
    updated: tuple[int, list[int]] | None,
    deleted: tuple[int, list[int]] | None,
) -> dict[str, Any]:
    updated = updated or (0, [])
    deleted = deleted or (0, [])
    return {
        "inserted": inserted,
        "updated": updated[0],
        "soft_deleted": deleted[0],
        "inserted_id_range": [first_id, first_id + inserted - 1] if inserted else None,
        "updated_ids": updated[1],
        "soft_deleted_ids": deleted[1],
        "ids_truncated": updated[0] > len(updated[1]) or deleted[0] > len(deleted[1]),
    }


# --------------------------------------------------------------------------- state


def read_state(duckdb: Any, path: Path) -> dict[str, Any] | None:
    """The load log of an existing warehouse (read-only), or None without an initial load."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise LoadError(
            f"cannot open {path}: {error}. Close the program that holds it "
            "(dbt, DBeaver, a notebook) and run again"
        ) from error
    try:
        present = {
            table: [
                (name, kind)
                for name, kind in con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'raw' AND table_name = ? ORDER BY ordinal_position",
                    [table],
                ).fetchall()
            ]
            for table in [*TABLES, "_load_log"]
        }
        if not any(present.values()):
            return None
        if not present["_load_log"]:
            raise UsageError(
                f"{path} has raw tables but no raw._load_log, so they were not landed by this "
                "generator: run the initial load (without --increment) to replace them"
            )
        for table, columns in TABLES.items():
            names = [name for name, _ in columns]
            if [name for name, _ in present[table]] != names:
                raise UsageError(
                    f"raw.{table} in {path} does not have the columns of this generator "
                    f"({', '.join(names)}): run the initial load (without --increment) "
                    "to land the tables afresh"
                )
        log = con.execute(
            "SELECT batch_id, seed, scale FROM raw._load_log ORDER BY batch_id"
        ).fetchall()
        if not log or log[0][0] != 0 or [row[0] for row in log] != list(range(len(log))):
            raise UsageError(
                f"raw._load_log in {path} does not list batches 0..N in order: "
                "run the initial load (without --increment) to start a new series"
            )
        landed = max(
            con.execute(f"SELECT coalesce(max(_batch_id), 0) FROM raw.{table}").fetchone()[0]
            for table in TABLES
        )
        if landed > log[-1][0]:
            raise UsageError(
                f"the raw tables in {path} hold batch {landed} but raw._load_log ends at batch "
                f"{log[-1][0]}: run the initial load (without --increment) to start afresh"
            )
        return {"last_batch": log[-1][0], "seed": log[0][1], "scale": log[0][2]}
    finally:
        con.close()


# --------------------------------------------------------------------------- main


def args_text(value: float) -> str:
    """A seed or scale as one would type it."""
    return str(value) if isinstance(value, int) else f"{value:g}"


def resolve_database(option: str | None) -> Path:
    return Path(option or os.environ.get("DBT_DUCKDB_PATH") or DEFAULT_DATABASE).expanduser()


def run(args: argparse.Namespace) -> tuple[dict[str, Any], Path]:
    started = time.perf_counter()
    scale = parse_scale(args.scale) if args.scale is not None else None
    seed = parse_seed(args.seed) if args.seed is not None else None
    batch = parse_increment(args.increment) if args.increment is not None else 0
    path = resolve_database(args.database).resolve()
    if path.stem.lower() in {"raw", "staging", "intermediate", "marts", "snapshots"}:
        raise UsageError(
            f"{path.name} would clash with schema {path.stem.lower()}: DuckDB names the "
            "database after its file, so choose another file name (e.g. warehouse.duckdb)"
        )

    try:
        import duckdb
    except ImportError as error:
        raise LoadError("duckdb is missing: run `make setup` and use the .venv's python") from error

    if batch:
        if not path.exists():
            raise UsageError(
                f"no warehouse at {path} for --increment {batch}: land the initial load first "
                f"(python scripts/utilities/generate_data.py --database {path})"
            )
        state = read_state(duckdb, path)
        if state is None:
            raise UsageError(
                f"{path} holds no initial load (schema raw is empty) for --increment {batch}: "
                "run the generator without --increment first"
            )
        if batch <= state["last_batch"]:
            raise UsageError(
                f"increment {batch} is already landed in {path} (the last batch is "
                f"{state['last_batch']}): land --increment {state['last_batch'] + 1}, or run "
                "the initial load again to start over"
            )
        if batch != state["last_batch"] + 1:
            raise UsageError(
                f"increment {batch} needs increment {batch - 1} first (the last batch in "
                f"{path} is {state['last_batch']}): land --increment {state['last_batch'] + 1}"
            )
        for option, given, landed in (
            ("--seed", seed, state["seed"]),
            ("--scale", scale, state["scale"]),
        ):
            if given is not None and given != landed:
                raise UsageError(
                    f"{option} {args_text(given)} differs from the initial load's "
                    f"{args_text(landed)}: increments continue the series of the initial load; "
                    f"leave {option} out, or run the initial load again with "
                    f"{option} {args_text(given)}"
                )
        seed, scale = state["seed"], state["scale"]
        day = FIRST_INCREMENT_DAY + timedelta(days=batch - 1)
    else:
        seed = DEFAULT_SEED if seed is None else seed
        scale = DEFAULT_SCALE if scale is None else scale
        day = None

    path.parent.mkdir(parents=True, exist_ok=True)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as error:
        raise LoadError(
            f"cannot open {path}: {error}. Close the program that holds it "
            "(dbt, DBeaver, a notebook) and run again"
        ) from error
    try:
        con.execute("BEGIN TRANSACTION")
        define_macros(con, seed, batch)
        if batch:
            result = increment_load(con, batch, scale, loaded_at, day)
        else:
            result = initial_load(con, scale, loaded_at)
        for table, entry in result["tables"].items():
            entry["rows"], entry["live_rows"] = con.execute(
                f"SELECT count(*), count(*) FILTER (NOT _is_deleted) FROM raw.{table}"
            ).fetchone()
        result["tables"]["orders"]["live_status_counts"] = dict(
            con.execute(
                "SELECT status, count(*) FROM raw.orders WHERE NOT _is_deleted "
                "GROUP BY ALL ORDER BY 1"
            ).fetchall()
        )
        counts = {
            table: {key: entry[key] for key in ("inserted", "updated", "soft_deleted")}
            for table, entry in result["tables"].items()
        }
        con.execute(
            "INSERT INTO raw._load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch,
                "increment" if batch else "initial",
                loaded_at,
                day,
                seed,
                scale,
                GENERATOR_VERSION,
                json.dumps(counts, sort_keys=True),
            ],
        )
        con.execute("COMMIT")
    except duckdb.Error as error:
        con.execute("ROLLBACK")
        raise LoadError(f"the load failed and was rolled back: {error}") from error
    finally:
        con.close()

    manifest = {
        "batch_id": batch,
        "kind": "increment" if batch else "initial",
        "seed": seed,
        "scale": scale,
        "business_date": result["business_date"],
        "loaded_at": loaded_at.isoformat(),
        "database": str(path),
        "generator_version": GENERATOR_VERSION,
        "id_list_limit": ID_LIST_LIMIT,
        "seconds": round(time.perf_counter() - started, 3),
        "tables": result["tables"],
    }
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
    batch = manifest["batch_id"]
    what = (
        f"increment {batch} (business day {manifest['business_date']})"
        if batch
        else "the initial load (batch 0)"
    )
    lines = [
        f"Landed {what}, seed {manifest['seed']}, scale {manifest['scale']:g}, into "
        f"{manifest['database']} (schema raw) in {manifest['seconds']:.2f} s:",
        f"  {'table':<12} {'inserted':>10} {'updated':>10} {'soft-deleted':>13} {'rows':>11}",
    ]
    for table, entry in manifest["tables"].items():
        lines.append(
            f"  {table:<12} {entry['inserted']:>10,} {entry['updated']:>10,} "
            f"{entry['soft_deleted']:>13,} {entry['rows']:>11,}"
        )
    lines.append(f"Manifest: {manifest_path}. Next: --increment {batch + 1}.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        manifest, manifest_path = run(args)
    except UsageError as error:
        print(f"generate_data.py: error: {error}", file=sys.stderr)
        return 2
    except LoadError as error:
        print(f"generate_data.py: error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(to_json(manifest))
        print(summary(manifest, manifest_path), file=sys.stderr)
    else:
        print(summary(manifest, manifest_path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
