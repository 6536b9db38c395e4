"""scripts/setup/snowflake_keypair.py writes a usable key pair and the statement that registers it.

The private key opens with the passphrase and matches the public key in the printed
``alter user`` statement and the fingerprint; the refusals (an unknown user, a key already
there, a folder inside the repository, no passphrase) exit 2 with one line and write nothing.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "setup" / "snowflake_keypair.py"
#: Built at run time, like the tests' other fake credentials.
PASSPHRASE = "Kp9" + "-unit-test-" + "only"
STATEMENT = re.compile(r"^alter user (\w+) set rsa_public_key = '([A-Za-z0-9+/=]+)';$", re.M)
FINGERPRINT = re.compile(r"RSA_PUBLIC_KEY_FP = (SHA256:[A-Za-z0-9+/=]+)$", re.M)


def users(root: Path) -> list[str]:
    sql = (root / "snowflake" / "roles" / "03_users.sql").read_text()
    return re.findall(r"create user if not exists (\w+)", sql)


def keypair(*args: str, passphrase: str = PASSPHRASE) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": passphrase}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_key_pair_and_statement_agree(root: Path, tmp_path: Path) -> None:
    user = [u for u in users(root) if u.endswith("_TRANSFORMER_SVC")][0]
    run = keypair(user.lower(), "--dir", str(tmp_path))
    assert run.returncode == 0, run.stderr
    private_path = tmp_path / f"{user.lower()}.p8"
    assert private_path.stat().st_mode & 0o777 == 0o600
    key = serialization.load_pem_private_key(private_path.read_bytes(), PASSPHRASE.encode())
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    statement = STATEMENT.search(run.stdout)
    assert statement and statement.groups() == (user, base64.b64encode(der).decode())
    digest = base64.b64encode(hashlib.sha256(der).digest()).decode()
    assert FINGERPRINT.search(run.stdout).group(1) == f"SHA256:{digest}"
    pem = (tmp_path / f"{user.lower()}.pub").read_bytes()
    assert (
        serialization.load_pem_public_key(pem).public_numbers() == key.public_key().public_numbers()
    )
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(private_path.read_bytes(), b"wrong")


@pytest.mark.parametrize(
    "case", ["unknown user", "existing key", "inside the repository", "no passphrase"]
)
def test_refusals_exit_2_and_write_nothing(case: str, root: Path, tmp_path: Path) -> None:
    user = users(root)[0]
    folder = tmp_path / "keys"
    args, passphrase, expected = [user, "--dir", str(folder)], PASSPHRASE, ""
    if case == "unknown user":
        args[0] = "NOBODY_SVC"
        expected = f"no service user NOBODY_SVC in 03_users.sql: choose {user}"
    elif case == "existing key":
        folder.mkdir()
        (folder / f"{user.lower()}.pub").write_text("old\n")
        expected = "exists: move it away first"
    elif case == "inside the repository":
        folder = root / ".local" / "keys"
        args[2], expected = str(folder), "is inside the repository"
    else:
        passphrase, expected = "", "no passphrase: set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"
    run = keypair(*args, passphrase=passphrase)
    assert run.returncode == 2, run.stdout
    assert run.stderr.startswith("snowflake_keypair.py: ") and expected in run.stderr, run.stderr
    assert len(run.stderr.splitlines()) == 1 and "Traceback" not in run.stderr
    written = sorted(p.name for p in folder.glob("*")) if folder.exists() else []
    assert written == ([f"{user.lower()}.pub"] if case == "existing key" else [])
