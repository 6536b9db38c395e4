"""Fill the Looker connection definition from the environment, for Looker's API.

Looker keeps database connections in its admin settings, not in LookML, so the
definition here is the body of Looker API 4.0 ``POST /api/4.0/connections``
(``PATCH /api/4.0/connections/<name>`` to update it). Its secrets and the
account stay ``${LOOKER_SNOWFLAKE_...}`` placeholders in the repository; this
script replaces them with the environment's values and prints the body on
stdout, so it goes straight to the API and never lands in a file:

    python looker/data_sources/fill_connection.py | curl -sf -X POST \\
        -H "Authorization: token $LOOKER_TOKEN" -H "Content-Type: application/json" \\
        --data @- "$LOOKER_BASE_URL/api/4.0/connections"

Every placeholder must be set (the passphrase may be empty for an unencrypted
key); a missing one stops the script with its name and nothing printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

DEFINITION = Path(__file__).resolve().parent / "snowflake_connection.json"
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


class FillError(Exception):
    """A problem the user fixes; printed as one line."""


def placeholders(text: str) -> list[str]:
    """The environment variables the definition needs, in order, once each."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def fill(text: str, environ: Mapping[str, str], source: str = DEFINITION.name) -> str:
    """The definition (read from `source`) with every placeholder replaced, as JSON text."""
    missing = [name for name in placeholders(text) if name not in environ]
    if missing:
        raise FillError(
            f"set {', '.join(missing)} in the environment (see looker/README.md) and run again"
        )
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise FillError(f"{source} is not valid JSON ({error}): restore it") from None

    def substitute(value: object) -> object:
        if isinstance(value, str):
            return PLACEHOLDER.sub(lambda match: environ[match.group(1)], value)
        return value

    return json.dumps({key: substitute(value) for key, value in body.items()}, indent=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--definition", type=Path, default=DEFINITION)
    args = parser.parse_args(argv)
    try:
        try:
            text = args.definition.read_text(encoding="utf-8")
        except OSError as error:
            raise FillError(f"cannot read {args.definition} ({error.strerror})") from None
        print(fill(text, os.environ, str(args.definition)))
    except FillError as error:
        print(f"fill_connection: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
