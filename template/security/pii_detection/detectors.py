"""PII detectors: by the content of a value and by the name of a column.

Content detectors take one string and answer whether it looks like that kind of personal
data; scan.py applies them to a sample of each column and flags the column when the
share of matching non-null values reaches the detector's threshold (THRESHOLDS). Name
rules match the column's name (snake_case or camelCase) and apply to the column types
they list. Everything here is pure Python: the tests call it directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# --------------------------------------------------------------------------- thresholds

#: Share of the non-null sampled values that must match for a column to be flagged. The
#: format detectors are precise (a random value rarely passes), so 30% suffices and still
#: catches a column that mixes PII with placeholders; names are fuzzier (a city or a
#: product can be called like a person), so half the values must look like names.
THRESHOLDS: dict[str, float] = {
    "email": 0.3,
    "phone": 0.3,
    "us_ssn": 0.3,
    "uk_nino": 0.3,
    "card_number": 0.3,
    "person_name": 0.5,
    "street_address": 0.3,
}

# --------------------------------------------------------------------------- content

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")

# International: a leading + (or 00), then digits with optional separators and one
# optional (area) group: +1-555-0142-1234, +44 20 7946 0958, +14155552671, 0049 30 1234567.
PHONE_INTERNATIONAL = re.compile(r"(?:\+|00)\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,5}")
# North American national format, separators required: (415) 555-2671, 415-555-2671,
# 415.555.2671. A bare 10-digit number is left alone (it is as likely an id).
PHONE_NANP = re.compile(r"(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}")
# National format with a trunk 0 and spaces or dashes: 020 7946 0958, 07700-900123.
PHONE_TRUNK = re.compile(r"0\d{2,4}[ -]\d{3,4}(?:[ -]?\d{3,4})?")

# US SSN with separators: area 001-899 except 666, group 01-99, serial 0001-9999.
US_SSN = re.compile(r"(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}")
# UK National Insurance number: two prefix letters (not D, F, I, Q, U, V; second not O;
# not BG, GB, KN, NK, NT, TN, ZZ), six digits, suffix A-D.
UK_NINO = re.compile(
    r"(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-D]"
)

CARD_SHAPE = re.compile(r"\d(?:[ -]?\d){12,18}")
#: Issuer ranges (prefix ranges, lengths) of the major card brands.
CARD_BRANDS: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (4, 4, (13, 16, 19)),  # Visa
    (51, 55, (16,)),  # Mastercard
    (2221, 2720, (16,)),  # Mastercard 2-series
    (34, 34, (15,)),  # American Express
    (37, 37, (15,)),  # American Express
    (6011, 6011, (16, 17, 18, 19)),  # Discover
    (644, 649, (16, 17, 18, 19)),  # Discover
    (65, 65, (16, 17, 18, 19)),  # Discover
    (3528, 3589, (16, 17, 18, 19)),  # JCB
    (300, 305, (14, 15, 16, 17, 18, 19)),  # Diners Club
    (36, 36, (14, 15, 16, 17, 18, 19)),  # Diners Club
    (38, 39, (16, 17, 18, 19)),  # Diners Club
    (62, 62, (16, 17, 18, 19)),  # UnionPay
)

STREET_SUFFIXES = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Way|Drive|Dr|Boulevard|Blvd|Court|Ct|Place|Pl|"
    "Terrace|Close|Crescent|Square|Sq|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Trail|Row|Grove|"
    "Gardens|Mews|Walk"
)
# 12 Maple Road, 221B Baker Street, 1600 Pennsylvania Ave NW, 5/7 High St.
ADDRESS_NUMBER_FIRST = re.compile(
    r"\b\d{1,5}[A-Za-z]?(?:[-/]\d{1,5})?,?\s+(?:[A-Z][A-Za-z'.-]*\s+){1,4}"
    rf"(?:{STREET_SUFFIXES})\b\.?"
)
# Hauptstraße 5, Keizersgracht 123, Storgatan 4, Rue de Rivoli 12, Via Roma 10.
ADDRESS_NUMBER_LAST = re.compile(
    r"\b(?:[A-ZÄÖÜ][a-zäöüßéè]+(?:straße|strasse|str\.|weg|gasse|allee|platz|laan|straat|"
    r"gracht|vägen|gatan|veien|vej)|(?:Rue|Avenue|Boulevard|Via|Viale|Calle|Avenida|Rua|"
    r"Piazza|Plaza|Carrer)(?:\s+[A-Za-zÀ-ÿ'.-]+){1,4})\s+\d{1,5}[a-z]?\b"
)
# 12 rue de Rivoli, 10 via Roma (number first, Romance street word).
ADDRESS_ROMANCE = re.compile(
    r"\b\d{1,5}[a-z]?,?\s+(?:rue|avenue|boulevard|via|viale|calle|avenida|rua|piazza|plaza)"
    r"\s+[A-Za-zÀ-ÿ'.-]+",
    re.IGNORECASE,
)

# A small list of given names and family names, common across the English-speaking
# countries and Europe (the shop's markets); enough to tell "Anna Smith" from "Classic Novel".
_FIRST_NAMES = (
    "Aaron", "Abigail", "Adam", "Adrian", "Aisha", "Alan", "Albert", "Alex", "Alexander",
    "Alexandra", "Alice", "Alicia", "Amara", "Amelia", "Amy", "Ana", "Andrea", "Andrew", "Angela",
    "Anna", "Anne", "Anthony", "Antonio", "Arjun", "Ava", "Barbara", "Beatriz", "Ben", "Benjamin",
    "Bernard", "Beth", "Brian", "Camille", "Carl", "Carla", "Carlos", "Caroline", "Catherine",
    "Charles", "Charlotte", "Chen", "Chloe", "Christian", "Christina", "Christopher", "Claire",
    "Clara", "Daniel", "David", "Deborah", "Diana", "Diego", "Dmitri", "Donald", "Dorothy",
    "Edward", "Elena", "Elif", "Elijah", "Elizabeth", "Ella", "Emily", "Emma", "Eric", "Erik",
    "Ethan", "Eva", "Fatima", "Felix", "Fernando", "Francesca", "Francesco", "Frank", "Freya",
    "Gabriel", "George", "Georgia", "Giulia", "Grace", "Hannah", "Hans", "Harry", "Heather",
    "Helen", "Henry", "Hugo", "Ian", "Ines", "Ingrid", "Isabel", "Isabella", "Isla", "Ivan",
    "Jack", "Jacob", "James", "Jan", "Jane", "Jason", "Javier", "Jennifer", "Jessica", "Joan",
    "Johan", "John", "Jonas", "Jonathan", "Jorge", "Jose", "Joseph", "Joshua", "Juan", "Julia",
    "Julian", "Karen", "Karin", "Katarzyna", "Kate", "Kenji", "Kevin", "Kim", "Laura", "Lars",
    "Lea", "Lena", "Leo", "Liam", "Linda", "Lisa", "Lucas", "Lucia", "Luis", "Luka", "Lukas",
    "Maria", "Marie", "Mark", "Marta", "Martin", "Mary", "Mateo", "Matteo", "Matthew", "Max",
    "Mei", "Mia", "Michael", "Michelle", "Miguel", "Mohammed", "Muhammad", "Nancy", "Natalia",
    "Nicholas", "Nicole", "Nina", "Noah", "Nora", "Olga", "Olivia", "Omar", "Oscar", "Pablo",
    "Patricia", "Patrick", "Paul", "Paula", "Pedro", "Peter", "Pierre", "Priya", "Quinn",
    "Rachel", "Rafael", "Raj", "Rebecca", "Richard", "Robert", "Rosa", "Ryan", "Samuel", "Sandra",
    "Sara", "Sarah", "Scott", "Sebastian", "Sofia", "Sophie", "Stefan", "Stephanie", "Steven",
    "Susan", "Sven", "Tara", "Thomas", "Timothy", "Tomas", "Umar", "Valentina", "Vera",
    "Victoria", "Wei", "William", "Xenia", "Yuki", "Yusuf", "Zoe"
)  # fmt: skip
FIRST_NAMES = frozenset(_FIRST_NAMES)
_LAST_NAMES = (
    "Adams", "Ahmed", "Ali", "Allen", "Anderson", "Andersson", "Bakker", "Baker", "Bernard",
    "Bianchi", "Brown", "Campbell", "Carter", "Chen", "Clark", "Cohen", "Collins", "Costa",
    "Davies", "Davis", "Dubois", "Edwards", "Evans", "Ferrari", "Fischer", "Garcia", "Gonzalez",
    "Green", "Hall", "Hansen", "Harris", "Hernandez", "Hill", "Hoffmann", "Jackson", "Jansen",
    "Jensen", "Johansson", "Johnson", "Jones", "Kaur", "Khan", "King", "Kowalski", "Kumar", "Lee",
    "Lewis", "Lopez", "Martin", "Martinez", "Meyer", "Miller", "Mitchell", "Moore", "Moreau",
    "Morris", "Mueller", "Murphy", "Nguyen", "Nielsen", "Nilsson", "Novak", "Nowak", "Olsen",
    "Parker", "Patel", "Perez", "Petit", "Phillips", "Ricci", "Roberts", "Robinson", "Rodriguez",
    "Romano", "Rossi", "Sanchez", "Santos", "Schmidt", "Schneider", "Schulz", "Scott", "Silva",
    "Singh", "Smith", "Stewart", "Taylor", "Thomas", "Thompson", "Turner", "Visser", "Walker",
    "Walsh", "Weber", "White", "Williams", "Wilson", "Wright", "Young"
)  # fmt: skip
LAST_NAMES = frozenset(_LAST_NAMES)
_NAME_PARTICLES = (
    "van", "von", "de", "der", "den", "da", "di", "du", "la", "le", "del", "dos", "bin", "al"
)  # fmt: skip
NAME_PARTICLES = frozenset(_NAME_PARTICLES)
NOT_A_SURNAME = frozenset(STREET_SUFFIXES.split("|"))


def is_email(value: str) -> bool:
    return "@" in value and EMAIL.search(value) is not None


def is_phone(value: str) -> bool:
    value = value.strip()
    digits = sum(ch.isdigit() for ch in value)
    if value[:1] == "+":
        return 8 <= digits <= 15 and PHONE_INTERNATIONAL.fullmatch(value) is not None
    if value[:2] == "00":  # 00 + country code + number: at least 9 digits after the 00
        return 9 <= digits - 2 <= 15 and PHONE_INTERNATIONAL.fullmatch(value) is not None
    if not 7 <= digits <= 15:
        return False
    return PHONE_NANP.fullmatch(value) is not None or PHONE_TRUNK.fullmatch(value) is not None


def is_us_ssn(value: str) -> bool:
    return len(value) <= 13 and US_SSN.fullmatch(value.strip()) is not None


def is_uk_nino(value: str) -> bool:
    return len(value) <= 15 and UK_NINO.fullmatch(value.strip().upper()) is not None


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand_matches(digits: str) -> bool:
    for low, high, lengths in CARD_BRANDS:
        width = len(str(low))
        if len(digits) in lengths and low <= int(digits[:width]) <= high:
            return True
    return False


def is_card_number(value: str) -> bool:
    """13-19 digits (spaces or dashes allowed), a card brand's prefix and length, Luhn."""
    value = value.strip()
    if not 13 <= len(value) <= 23 or CARD_SHAPE.fullmatch(value) is None:
        return False
    digits = value.replace(" ", "").replace("-", "")
    return card_brand_matches(digits) and luhn_valid(digits)


def _name_token(token: str) -> bool:
    """A capitalised word (Anna, O'Brien, McDonald, Jean-Luc, Müller) or an initial (J.)."""
    if len(token) == 2 and token[1] == "." and token[0].isupper():
        return True
    core = token.replace("-", "").replace("'", "")
    return core.isalpha() and token[0].isupper() and not (len(core) > 2 and core.isupper())


def is_person_name(value: str) -> bool:
    """A given or family name of the list, or 2-4 capitalised words led by a listed given
    name or ended by a listed family name ("Anna Smith", "Smith, Anna", "J. Novak")."""
    value = value.strip()
    if not 2 <= len(value) <= 60 or any(ch.isdigit() for ch in value):
        return False
    if value.isupper():
        value = value.title()
    if value.count(",") == 1:  # "Smith, Anna"
        last, first = (part.strip() for part in value.split(","))
        value = f"{first} {last}"
    tokens = value.split()
    if len(tokens) == 1:
        return tokens[0] in FIRST_NAMES or tokens[0] in LAST_NAMES
    if len(tokens) > 4 or tokens[-1] in NOT_A_SURNAME:
        return False
    for position, token in enumerate(tokens):
        if position and token in NAME_PARTICLES:
            continue
        if not _name_token(token):
            return False
    return any(part in FIRST_NAMES for part in tokens[0].split("-")) or any(
        part in LAST_NAMES for part in tokens[-1].split("-")
    )


def is_street_address(value: str) -> bool:
    if not any(ch.isdigit() for ch in value) or len(value) > 200:
        return False
    return (
        ADDRESS_NUMBER_FIRST.search(value) is not None
        or ADDRESS_NUMBER_LAST.search(value) is not None
        or ADDRESS_ROMANCE.search(value) is not None
    )


#: Content detectors by name, and the column types they apply to ("text" is VARCHAR,
#: JSON and every seed column; "integer" covers card numbers stored as numbers).
CONTENT_DETECTORS: dict[str, tuple[Callable[[str], bool], frozenset[str]]] = {
    "email": (is_email, frozenset({"text"})),
    "phone": (is_phone, frozenset({"text"})),
    "us_ssn": (is_us_ssn, frozenset({"text"})),
    "uk_nino": (is_uk_nino, frozenset({"text"})),
    "card_number": (is_card_number, frozenset({"text", "integer"})),
    "person_name": (is_person_name, frozenset({"text"})),
    "street_address": (is_street_address, frozenset({"text"})),
}

# --------------------------------------------------------------------------- names

#: Column-name rules: a regular expression over the snake_case name and the column
#: types it applies to (an `email_verified_at` timestamp or an `is_mobile` boolean is
#: not personal data, so those types are left out).
NAME_RULES: dict[str, tuple[re.Pattern[str], frozenset[str]]] = {
    "email": (
        re.compile(r"(^|_)e_?mails?(_|$)|email_?address"),
        frozenset({"text"}),
    ),
    "phone": (
        re.compile(
            r"(^|_)(phone|phones|telephone|tel|fax|msisdn|cellphone)(_|$)"
            r"|phone_?(number|no)|(mobile|cell)_(number|no|phone)"
        ),
        frozenset({"text", "integer"}),
    ),
    "person_name": (
        re.compile(
            r"^(first|last|middle|given|family|full|maiden|nick|birth|customer|contact|"
            r"person|user|account_holder|card_?holder|holder|recipient|sender|patient|"
            r"employee|billing|shipping)_?name$|^(sur|fore)name$|^user_?name$"
        ),
        frozenset({"text"}),
    ),
    "street_address": (
        re.compile(
            r"address|(^|_)(street|addr|address_line\d?|post_?code|postal_?code|"
            r"house_?number)(_|$)|(^|_)zip(_?code)?$"
        ),
        frozenset({"text", "integer"}),
    ),
    "national_id": (
        re.compile(
            r"(^|_)(ssn|nino|passport|passport_?(number|no)|tax_?id|national_?id)(_|$)"
            r"|social_?security|national_?insurance|driver_?s?_?licen[cs]e"
        ),
        frozenset({"text", "integer"}),
    ),
    "date_of_birth": (
        re.compile(r"(^|_)(dob|born|birthday|birth_?date)(_|$)|date_of_birth"),
        frozenset({"text", "temporal"}),
    ),
    "card_number": (
        re.compile(
            r"card_?(number|num|no)|credit_?card|(^|_)(pan|cvv|cvc|iban)(_|$)"
            r"|(^|_)cc_?(number|num|no)(_|$)"
        ),
        frozenset({"text", "integer"}),
    ),
    "ip_address": (
        re.compile(r"^ip$|(^|_)ip_?addr(ess)?(_|$)|(^|_)(client|remote|source|user)_ip(_|$)"),
        frozenset({"text", "integer"}),
    ),
}

CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def snake(name: str) -> str:
    """customerEmail -> customer_email; 'E-Mail' -> e_mail."""
    return re.sub(r"[^a-z0-9]+", "_", CAMEL.sub("_", name).lower()).strip("_")


def name_matches(column: str, family: str) -> list[str]:
    """The name rules a column of this type family matches."""
    name = snake(column)
    return [
        rule
        for rule, (pattern, families) in NAME_RULES.items()
        if family in families and pattern.search(name)
    ]


def type_family(duckdb_type: str) -> str:
    """text, integer, temporal or other, from a DuckDB type name."""
    kind = duckdb_type.upper()
    if kind.startswith(("VARCHAR", "CHAR", "TEXT", "STRING", "BPCHAR", "JSON", "ENUM")):
        return "text"
    if kind in {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }:
        return "integer"
    if kind.startswith(("DATE", "TIMESTAMP", "TIME")):
        return "temporal"
    return "other"
