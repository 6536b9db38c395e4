"""security/pii_detection/scan.py against scratch warehouses (yours is not touched).

* Planted PII under innocuous column names (e-mails, phones, SSNs, NINOs, valid card
  numbers as text and as numbers, person names, street addresses, and e-mails in a seed)
  must all be flagged, by content, and reported as unclassified: recall 100%.
* Look-alikes (order ids and references, SKUs, 16-digit numbers failing Luhn, random
  16-digit codes, ISO dates, prices, product names, country codes, cities, UUIDs,
  versions) must not be flagged: no false positive.
* The generator's sample data passes: every column the scan flags is classified pii in
  dbt; reclassifying one of them as internal on a copy of dbt/ makes the scan fail.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require

SCAN = Path("security") / "pii_detection" / "scan.py"
ROWS = 400
FIRST = [
    "James", "Mary", "Olivia", "Liam", "Sophie", "Lukas", "Amara", "Chiamaka", "Siobhan",
    "Mateusz", "Ingrid", "Tobias", "Aylin", "Rohan", "Elena", "Kwame", "Camille", "Diego",
    "Hannah", "Noah",
]  # fmt: skip
LAST = [
    "Smith", "Okafor", "Lindqvist", "Nowak", "Murphy", "Fernandes", "Schneider", "Haddad",
    "Tanaka", "Brennan", "Rossi", "Johnson", "Van Dijk", "Kowalczyk", "Moreau", "Ng",
]  # fmt: skip
STREETS = ["Maple", "Station", "Baker", "Church", "Pennsylvania", "Elm", "Harbour", "Kings"]
SUFFIXES = ["Street", "Road", "Avenue", "Lane", "Drive", "Ave", "St", "Close"]
CITIES = ["New York", "Chicago", "London", "Leeds", "Berlin", "Paris", "Madrid", "Sydney"]
PRODUCTS = [
    "Classic Novel", "Deluxe Headphones", "Smart Speaker", "Travel Guide", "Eco Kettle",
    "Premium Yoga Mat", "Compact Power Bank", "Vintage Clock", "Garden Hose", "Wireless Mouse",
]  # fmt: skip


def find_dbt() -> str | None:
    beside = Path(sys.executable).parent / "dbt"
    return shutil.which("dbt") or (str(beside) if beside.exists() else None)


def dbt_parse(project: Path, target: Path) -> Path:
    dbt = find_dbt()
    require(dbt is not None, "dbt")
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(project),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_DUCKDB_PATH": str(target / "parse.duckdb"),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target / "logs"),
    }
    result = subprocess.run(
        [str(dbt), "parse", "--project-dir", str(project), "--target", "ci", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target / "manifest.json"


def scan(
    root: Path, database: Path, seeds: Path, manifest: Path, report: Path, project: Path
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    result = subprocess.run(
        [
            sys.executable,
            str(root / SCAN),
            "--database",
            str(database),
            "--seeds",
            str(seeds),
            "--manifest",
            str(manifest),
            "--project-dir",
            str(project),
            "--report",
            str(report),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    json_report = report.with_name(report.name + ".json")
    data = json.loads(json_report.read_text()) if json_report.exists() else {}
    return result, data


def flagged(report: dict[str, Any]) -> dict[str, list[str]]:
    return {
        f"{c['relation']}.{c['column']}": c["flagged_by"]
        for c in report["columns"]
        if c["flagged_by"]
    }


@pytest.fixture(scope="module")
def manifest(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dbt_parse(root / "dbt", tmp_path_factory.mktemp("target"))


# --------------------------------------------------------------------------- planted data


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    odd = sum(digits[0::2])
    even = sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return (odd + even) % 10 == 0


def card(rng: random.Random, valid: bool = True) -> str:
    prefix, length = rng.choice(
        [("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15),
         ("6011", 16), ("65", 16), ("3530", 16), ("62", 19)]
    )  # fmt: skip
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    digits = [body + d for d in "0123456789" if luhn_ok(body + d) == valid]
    return rng.choice(digits)


def grouped(number: str, rng: random.Random) -> str:
    separator = rng.choice(["", " ", "-"])
    return separator.join(number[i : i + 4] for i in range(0, len(number), 4))


def phone(rng: random.Random) -> str:
    n = [rng.randint(2, 9)] + [rng.randint(0, 9) for _ in range(9)]
    d = "".join(map(str, n))
    return rng.choice(
        [
            f"+1 {d[:3]} {d[3:6]} {d[6:]}",
            f"({d[:3]}) {d[3:6]}-{d[6:]}",
            f"{d[:3]}.{d[3:6]}.{d[6:]}",
            f"+1{d}",
            f"+44 20 {d[2:6]} {d[6:]}",
            f"020 {d[2:6]} {d[6:]}",
            f"+49 30 {d[3:]}",
            f"+1-555-01{d[:2]}-{d[6:]}",
        ]
    )


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def nino(rng: random.Random) -> str:
    first = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    if first + second in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
        first, second = "A", "B"
    digits = f"{rng.randint(0, 999999):06d}"
    space = rng.choice(["", " "])
    return (
        space.join([first + second, digits[:2], digits[2:4], digits[4:]])
        + space
        + rng.choice("ABCD")
    )


def address(rng: random.Random) -> str:
    number = rng.randint(1, 2400)
    street = f"{rng.choice(STREETS)} {rng.choice(SUFFIXES)}"
    return rng.choice(
        [
            f"{number} {street}",
            f"{number}B {street}",
            f"{number} {street}, {rng.choice(CITIES)}",
            f"Flat {rng.randint(1, 9)}, {number} {street}",
            f"{rng.choice(['Haupt', 'Bahnhof', 'Linden'])}straße {rng.randint(1, 120)}",
            f"{rng.randint(1, 99)} rue de la {rng.choice(['Paix', 'Gare', 'République'])}",
        ]
    )


def person(rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return rng.choice([f"{first} {last}", f"{last}, {first}", f"{first} {last}".upper()])


#: Planted columns -> the content detector that must flag them.
PLANTED = {
    "raw.planted.contact": "email",
    "raw.planted.reach": "phone",
    "raw.planted.ref_a": "us_ssn",
    "raw.planted.ref_b": "uk_nino",
    "raw.planted.token": "card_number",
    "raw.planted.token_num": "card_number",
    "raw.planted.holder": "person_name",
    "raw.planted.location": "street_address",
    "partners.info": "email",
}
LOOK_ALIKES = {
    "raw.lookalikes.order_id",
    "raw.lookalikes.order_ref",
    "raw.lookalikes.sku",
    "raw.lookalikes.checksum_fail",
    "raw.lookalikes.checksum_fail_num",
    "raw.lookalikes.tracking_code",
    "raw.lookalikes.shipped_on",
    "raw.lookalikes.shipped_at",
    "raw.lookalikes.price_text",
    "raw.lookalikes.price",
    "raw.lookalikes.product_title",
    "raw.lookalikes.country",
    "raw.lookalikes.destination",
    "raw.lookalikes.request_id",
    "raw.lookalikes.app_version",
    "raw.lookalikes.status",
    "partners.code",
}


def planted_warehouse(database: Path, seeds: Path) -> None:
    import duckdb

    rng = random.Random(7)
    planted = [
        (
            f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower().replace(' ', '')}{i}"
            f"@{rng.choice(['gmail.com', 'mail.example.org', 'outlook.co.uk'])}",
            phone(rng),
            ssn(rng),
            nino(rng),
            grouped(card(rng), rng),
            int(visa16(rng)),
            person(rng),
            address(rng),
        )
        for i in range(ROWS)
    ]
    look_alikes = [
        (
            100_000 + i,
            f"ORD-2025-{i:06d}",
            f"{rng.choice(['ELE', 'BOO', 'TOY'])}-{rng.randint(0, 999_999):06d}",
            card(rng, valid=False),
            int(bad16(rng)),
            "".join(rng.choice("0123456789") for _ in range(16)),
            f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:15",
            f"{rng.randint(1, 1499)}.{rng.choice(['99', '49', '00'])}",
            rng.randint(100, 149_999) / 100,
            rng.choice(PRODUCTS),
            rng.choice(["US", "GB", "DE", "FR", "NL", "ES", "IT", "SE", "AU", "CA"]),
            rng.choice(CITIES),
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            f"{rng.randint(0, 12)}.{rng.randint(0, 30)}.{rng.randint(0, 200)}",
            rng.choice(["placed", "paid", "shipped", "delivered"]),
        )
        for i in range(ROWS)
    ]
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema raw")
        connection.execute(
            "create table raw.planted (contact varchar, reach varchar, ref_a varchar, "
            "ref_b varchar, token varchar, token_num bigint, holder varchar, location varchar)"
        )
        insert(connection, "raw.planted", planted)
        connection.execute(
            "create table raw.lookalikes (order_id bigint, order_ref varchar, sku varchar, "
            "checksum_fail varchar, checksum_fail_num bigint, tracking_code varchar, "
            "shipped_on varchar, shipped_at varchar, price_text varchar, price decimal(12, 2), "
            "product_title varchar, country varchar, destination varchar, request_id varchar, "
            "app_version varchar, status varchar)"
        )
        insert(connection, "raw.lookalikes", look_alikes)
    seeds.mkdir()
    with (seeds / "partners.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "info"])
        for i in range(50):
            writer.writerow([f"P-{i:04d}", f"partner{i}@example.net"])


def insert(connection: Any, table: str, rows: list[tuple[Any, ...]]) -> None:
    """One multi-row INSERT (executemany runs a statement per row: slow)."""
    one = "(" + ", ".join("?" * len(rows[0])) + ")"
    values = [value for row in rows for value in row]
    connection.execute(f"insert into {table} values {', '.join([one] * len(rows))}", values)


def visa16(rng: random.Random) -> str:
    body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def bad16(rng: random.Random) -> str:
    body = "4" + "".join(rng.choice("0123456789") for _ in range(14))
    return next(body + d for d in "0123456789" if not luhn_ok(body + d))


def test_planted_pii_is_flagged_and_look_alikes_are_not(
    root: Path, tmp_path: Path, manifest: Path
) -> None:
    database = tmp_path / "planted.duckdb"
    planted_warehouse(database, tmp_path / "seeds")
    result, report = scan(
        root, database, tmp_path / "seeds", manifest, tmp_path / "report", root / "dbt"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    found = flagged(report)
    missed = sorted(set(PLANTED) - set(found))
    false_positives = sorted(set(found) & LOOK_ALIKES)
    assert not missed, f"recall {1 - len(missed) / len(PLANTED):.0%}: missed {missed}"
    assert not false_positives, {name: found[name] for name in false_positives}
    assert set(found) == set(PLANTED), found
    for name, detector in PLANTED.items():
        assert f"content:{detector}" in found[name], (name, found[name])
    # No source or seed YAML declares them: each is a finding naming the YAML to fix.
    for name in PLANTED:
        assert f"{name} looks like personal data" in result.stderr, name
    assert "_sources.yml" in result.stderr and "_seeds.yml" in result.stderr
    # The report holds counts, never a sampled value.
    text = (tmp_path / "report.json").read_text() + (tmp_path / "report.md").read_text()
    assert "@gmail.com" not in text and "@example.net" not in text


# --------------------------------------------------------------------------- sample data


@pytest.fixture(scope="module")
def sample_warehouse(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("sample") / "warehouse.duckdb"
    script = root / "scripts" / "utilities" / "generate_data.py"
    for args in (["--scale", "0.2", "--seed", "42"], ["--increment", "1"]):
        result = subprocess.run(
            [sys.executable, str(script), "--database", str(database), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    return database


def test_the_sample_data_passes(
    root: Path, tmp_path: Path, manifest: Path, sample_warehouse: Path
) -> None:
    result, report = scan(
        root, sample_warehouse, root / "dbt" / "seeds", manifest, tmp_path / "r", root / "dbt"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found = flagged(report)
    assert set(found) == {
        f"raw.customers.{name}" for name in ("first_name", "last_name", "email", "phone", "street")
    }, found
    statuses = {f"{c['relation']}.{c['column']}": c["status"] for c in report["columns"]}
    assert all(statuses[name] == "pii" for name in found)
    # Seeds were scanned too.
    assert "country_codes.country_name" in statuses


def test_a_pii_column_reclassified_internal_fails_the_scan(
    root: Path, tmp_path: Path, sample_warehouse: Path
) -> None:
    project = tmp_path / "dbt"
    shutil.copytree(root / "dbt", project, ignore=shutil.ignore_patterns("target", "logs"))
    sources_yml = project / "models" / "staging" / "_sources.yml"
    sources = yaml.safe_load(sources_yml.read_text())
    (customers,) = [t for s in sources["sources"] for t in s["tables"] if t["name"] == "customers"]
    (email,) = [c for c in customers["columns"] if c["name"] == "email"]
    email["config"]["meta"]["classification"] = "internal"
    sources_yml.write_text(yaml.safe_dump(sources, sort_keys=False))
    manifest = dbt_parse(project, tmp_path / "target")

    result, report = scan(
        root, sample_warehouse, project / "seeds", manifest, tmp_path / "r", project
    )
    assert result.returncode == 1, result.stdout + result.stderr
    findings = report["findings"]
    assert len(findings) == 1, findings
    assert findings[0].startswith("raw.customers.email looks like personal data"), findings
    assert "is internal" in findings[0] and str(sources_yml) in findings[0]
    assert "raw.customers.email" in result.stderr


def test_no_warehouse_exits_2_saying_make_demo(root: Path, tmp_path: Path, manifest: Path) -> None:
    result, _ = scan(
        root,
        tmp_path / "missing.duckdb",
        root / "dbt" / "seeds",
        manifest,
        tmp_path / "r",
        root / "dbt",
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "make demo" in result.stderr
    assert not (tmp_path / "r.json").exists()
