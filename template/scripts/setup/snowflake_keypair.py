#!/usr/bin/env python3
"""Create the key pair of a Snowflake service user and print the statement that registers it.

The service users of snowflake/roles/03_users.sql have no password: they log in with a key
pair. This script writes an encrypted PKCS#8 private key (``<user>.p8``, mode 600) and its
public key (``<user>.pub``) into a folder OUTSIDE the repository (default ~/.snowflake), and
prints the ``alter user ... set rsa_public_key`` statement to run as SECURITYADMIN, the
fingerprint ``desc user`` then shows as RSA_PUBLIC_KEY_FP, and the .env lines dbt reads.

The passphrase comes from SNOWFLAKE_PRIVATE_KEY_PASSPHRASE, or is asked for twice. The users
are read from snowflake/roles/03_users.sql, so the names are this repository's. An existing
key is never overwritten (rotate with rsa_public_key_2: snowflake/README.md). Exit status:
0 written, 2 refused (unknown user, a key already there, a folder inside the repository,
no passphrase).
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import os
import re
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]
USERS_SQL = ROOT / "snowflake" / "roles" / "03_users.sql"
USER = re.compile(r"create user if not exists ([A-Za-z_][A-Za-z0-9_$]*)", re.IGNORECASE)
PASSPHRASE_VARIABLE = "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"
KEY_BITS = 2048


class Refused(Exception):
    """Nothing was written: the message says why and what to do."""


def service_users() -> list[str]:
    return [name.upper() for name in USER.findall(USERS_SQL.read_text())]


def passphrase() -> bytes:
    """The passphrase from the environment, or typed twice on a terminal."""
    value = os.environ.get(PASSPHRASE_VARIABLE, "")
    if not value and sys.stdin.isatty():
        value = getpass.getpass("Passphrase of the private key: ")
        if value != getpass.getpass("Again: "):
            raise Refused("the two passphrases differ")
    if not value:
        raise Refused(f"no passphrase: set {PASSPHRASE_VARIABLE} or run it on a terminal")
    return value.encode()


def public_key_body(public_der: bytes) -> str:
    """The key as Snowflake wants it in rsa_public_key: base64 DER, no PEM lines."""
    return base64.b64encode(public_der).decode()


def fingerprint(public_der: bytes) -> str:
    """What ``desc user`` shows as RSA_PUBLIC_KEY_FP."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(public_der).digest()).decode()


def create(user: str, folder: Path, secret: bytes) -> tuple[Path, bytes]:
    """Write <user>.p8 and <user>.pub into folder; the private key path and the public DER."""
    folder = folder.expanduser().resolve()
    if folder == ROOT or ROOT in folder.parents:
        raise Refused(
            f"{folder} is inside the repository: keep keys out of it (default ~/.snowflake)"
        )
    private_path, public_path = folder / f"{user.lower()}.p8", folder / f"{user.lower()}.pub"
    for path in (private_path, public_path):
        if path.exists():
            raise Refused(f"{path} exists: move it away first, or rotate with rsa_public_key_2")
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret),
    )
    public = key.public_key()
    public_der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(public_pem)
    return private_path, public_der


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("user", help="the service user, e.g. ORDERS_..._TRANSFORMER_SVC")
    parser.add_argument(
        "--dir", type=Path, default=Path("~/.snowflake"), help="where the keys go (~/.snowflake)"
    )
    args = parser.parse_args(argv)
    try:
        users = service_users()
        user = args.user.upper()
        if user not in users:
            raise Refused(f"no service user {user} in {USERS_SQL.name}: choose {', '.join(users)}")
        private_path, public_der = create(user, args.dir, passphrase())
    except OSError as error:
        print(f"snowflake_keypair.py: {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    except Refused as error:
        print(f"snowflake_keypair.py: {error}", file=sys.stderr)
        return 2
    print(f"-- Wrote {private_path} (encrypted, mode 600) and {private_path.with_suffix('.pub')}.")
    print("-- As SECURITYADMIN, in a worksheet:")
    print(f"alter user {user} set rsa_public_key = '{public_key_body(public_der)}';")
    print(f"desc user {user};  -- RSA_PUBLIC_KEY_FP = {fingerprint(public_der)}")
    print(f"-- In .env: SNOWFLAKE_USER={user}")
    print(f"--          SNOWFLAKE_PRIVATE_KEY_PATH={private_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
