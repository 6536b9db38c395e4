"""security/pii_detection/detectors.py: each detector finds its kind of PII and leaves
look-alikes alone (order ids, SKUs, dates, prices, product names, UUIDs, versions)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_detectors() -> ModuleType:
    path = ROOT / "security" / "pii_detection" / "detectors.py"
    spec = importlib.util.spec_from_file_location("detectors_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


detectors = load_detectors()

#: Values no detector may match: the look-alikes of a shop's tables.
LOOK_ALIKES = [
    "100234",  # an order id as text
    "ORD-2025-000123",  # an order reference
    "ELE-000123",  # a SKU
    "4111111111111112",  # 16 digits failing the Luhn check
    "1234 5678 9012 3456",  # grouped like a card, failing Luhn
    "9999999999999995",  # passes Luhn, no card brand starts with 9
    "2025-01-02",  # ISO date
    "2025-01-02 10:00:00",  # ISO timestamp
    "02/01/2025",
    "19.99",  # prices
    "1,499.00",
    "Classic Novel",  # product names
    "Deluxe Headphones",
    "Travel Guide",
    "Smart Speaker",
    "US",  # country codes
    "GB",
    "United Kingdom",
    "New York",
    "3f2b8c1e-9d4a-4c7e-8b1a-2e5f6a7b8c9d",  # UUID
    "1.2.3",  # versions
    "v2.10.4-beta",
    "10.0.19045",
    "placed",
    "bank_transfer",
    "The customer placed the order; it is not paid yet.",
    "0.15",
    '{"customers": 1000, "orders": 5000}',
]


@pytest.mark.parametrize(
    ("detector", "value"),
    [
        ("email", "anna.smith.17@example.com"),
        ("email", "j.o'brien+shop@mail.example.co.uk"),
        ("phone", "+1-555-0142-1234"),
        ("phone", "+1 415 555 2671"),
        ("phone", "+14155552671"),
        ("phone", "(415) 555-2671"),
        ("phone", "415.555.2671"),
        ("phone", "+44 20 7946 0958"),
        ("phone", "020 7946 0958"),
        ("phone", "0049 30 1234567"),
        ("us_ssn", "123-45-6789"),
        ("us_ssn", "078 05 1120"),
        ("uk_nino", "AB123456C"),
        ("uk_nino", "ab 12 34 56 d"),
        ("card_number", "4111111111111111"),
        ("card_number", "4111 1111 1111 1111"),
        ("card_number", "5555-5555-5555-4444"),
        ("card_number", "378282246310005"),
        ("card_number", "6011111111111117"),
        ("card_number", "2223003122003222"),
        ("person_name", "Anna Smith"),
        ("person_name", "Smith, Anna"),
        ("person_name", "JOHN O'BRIEN"),
        ("person_name", "Maria van der Berg"),
        ("person_name", "Chiamaka Okafor-Wright"),
        ("person_name", "Emma"),
        ("street_address", "12 Maple Road"),
        ("street_address", "221B Baker Street"),
        ("street_address", "1600 Pennsylvania Ave NW, Washington"),
        ("street_address", "Hauptstraße 5"),
        ("street_address", "Via Roma 10"),
        ("street_address", "10 rue de Rivoli"),
    ],
)
def test_detector_finds_planted_value(detector: str, value: str) -> None:
    check, _ = detectors.CONTENT_DETECTORS[detector]
    assert check(value), f"{detector} misses {value!r}"


@pytest.mark.parametrize("value", LOOK_ALIKES)
def test_no_detector_matches_a_look_alike(value: str) -> None:
    hits = [name for name, (check, _) in detectors.CONTENT_DETECTORS.items() if check(value)]
    assert hits == [], f"{value!r} taken for {hits}"


@pytest.mark.parametrize(
    "value",
    ["000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000", "123456789"],
)
def test_ssn_outside_the_issued_ranges_is_not_an_ssn(value: str) -> None:
    assert not detectors.is_us_ssn(value)


@pytest.mark.parametrize("value", ["GB123456A", "QQ123456C", "AB123456E", "DA123456A"])
def test_nino_with_a_prefix_never_issued_is_not_a_nino(value: str) -> None:
    assert not detectors.is_uk_nino(value)


def test_an_ssn_with_a_low_area_number_is_not_a_phone_dialled_with_00() -> None:
    assert detectors.is_us_ssn("005-20-6568")
    assert not detectors.is_phone("005-20-6568")
    assert detectors.is_phone("0049 30 1234567")


def test_luhn() -> None:
    assert detectors.luhn_valid("79927398713")
    assert not detectors.luhn_valid("79927398710")
    # Every valid card number turns invalid when one digit changes.
    assert not detectors.is_card_number("4111111111111121")


@pytest.mark.parametrize(
    ("name", "family", "rules"),
    [
        ("email", "text", ["email"]),
        ("customerEmail", "text", ["email"]),
        ("email_verified_at", "temporal", []),
        ("phone", "text", ["phone"]),
        ("mobile_number", "text", ["phone"]),
        ("is_mobile", "other", []),
        ("first_name", "text", ["person_name"]),
        ("LastName", "text", ["person_name"]),
        ("surname", "text", ["person_name"]),
        ("product_name", "text", []),
        ("country_name", "text", []),
        ("street", "text", ["street_address"]),
        ("billing_address", "text", ["street_address"]),
        ("postcode", "text", ["street_address"]),
        ("ssn", "text", ["national_id"]),
        ("passport_number", "text", ["national_id"]),
        ("dob", "temporal", ["date_of_birth"]),
        ("date_of_birth", "temporal", ["date_of_birth"]),
        ("card_number", "integer", ["card_number"]),
        ("ip_address", "text", ["street_address", "ip_address"]),
        ("shipping_country_code", "text", []),
        ("city", "text", []),
        ("sku", "text", []),
        ("zip_file", "text", []),
    ],
)
def test_name_rules(name: str, family: str, rules: list[str]) -> None:
    assert detectors.name_matches(name, family) == rules


@pytest.mark.parametrize(
    ("duckdb_type", "family"),
    [
        ("VARCHAR", "text"),
        ("BIGINT", "integer"),
        ("HUGEINT", "integer"),
        ("TIMESTAMP WITH TIME ZONE", "temporal"),
        ("DATE", "temporal"),
        ("DECIMAL(12,2)", "other"),
        ("BOOLEAN", "other"),
    ],
)
def test_type_family(duckdb_type: str, family: str) -> None:
    assert detectors.type_family(duckdb_type) == family


def test_every_detector_has_a_threshold_between_0_and_1() -> None:
    assert set(detectors.THRESHOLDS) == set(detectors.CONTENT_DETECTORS)
    assert all(0 < share <= 1 for share in detectors.THRESHOLDS.values())
