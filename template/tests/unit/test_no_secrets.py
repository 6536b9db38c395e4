"""No file git would commit (scripts/migration/repository.py lists them) holds a credential.

Whatever the file type, the scan finds private keys (PEM blocks), AWS keys, GitHub and Slack tokens,
Slack webhooks, passwords in URLs, and literal values of YAML keys, env-file variables and
``env_var()`` defaults named like a secret (a reference such as ``${VAR}`` passes). Only ALLOWED
passes otherwise. It is the standard library's ``re``, so it runs without .venv; detect-secrets
scans the same files in `make lint` (a pre-commit hook, .secrets.baseline). The tests plant a
fake credential of each kind (built at run time, so this file holds none) and check that the
scan finds it.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts" / "migration"))

import repository  # noqa: E402

#: Literal values that pass, by (file, value), with the reason.
ALLOWED: dict[tuple[str, str], str] = {}
SECRET_NAME = (
    r"[A-Za-z0-9_.-]*(?:password|passwd|passphrase|secret|token|api_key|apikey|private_key)"
)
#: Patterns found anywhere, in any file, by kind.
ANYWHERE = {
    kind: re.compile(pattern)
    for kind, pattern in {
        "private key": r"-{5}BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-{5}",
        "AWS access key id": r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])",
        "AWS secret access key": r"(?i)aws_secret_access_key[\"']?\s*[:=]\s*[\"']?[a-z0-9/+]{40}",
        "GitHub token": r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})",
        "Slack token": r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
        "Slack webhook URL": r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+",
    }.items()
}
URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"`]+:(?P<value>[^\s:/@'\"`]+)@")
YAML_SETTING = re.compile(
    rf"(?i)^\s*(?:-\s+)?[\"']?(?P<key>{SECRET_NAME})[\"']?\s*:(?:\s+(?P<value>.*?))?\s*$"
)
ENV_SETTING = re.compile(rf"(?i)^\s*(?:export\s+)?(?P<key>{SECRET_NAME})\s*=(?P<value>.*?)\s*$")
ENV_VAR_DEFAULT = re.compile(
    rf"(?i)env_var\(\s*[\"'](?P<key>{SECRET_NAME})[\"']\s*,\s*[\"'](?P<value>[^\"']+)[\"']"
)
#: Not a literal: empty, null, a boolean, a YAML block start, a <placeholder>, a reference.
NOT_LITERAL = re.compile(
    r"(?i)^(?:|null|~|true|false|[|>][-+]?|<[^<>]+>|\$\{.*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{\{.*\}\})$"
)


def literal(value: str) -> str:
    """The value of a setting without quotes and trailing comment."""
    value = value.strip()
    if value[:1] in {'"', "'"} and value[-1:] == value[:1] and len(value) >= 2:
        return value[1:-1]
    return re.sub(r"\s+#.*$", "", value)


def scan_text(path: str, text: str) -> list[tuple[str, int, str, str]]:
    """The credential-like values of one file (``path`` relative to the repository) as
    (path, line, kind, value)."""
    found = []
    name = Path(path).name
    env_file = name == ".env" or name.startswith(".env.") or ".env" in Path(name).suffixes
    yaml_file = path.endswith((".yml", ".yaml"))
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, pattern in ANYWHERE.items():
            found += [(path, number, kind, m.group(0)) for m in pattern.finditer(line)]
        candidates = [("password in a URL", m) for m in URL_PASSWORD.finditer(line)]
        candidates += [("env_var() default", m) for m in ENV_VAR_DEFAULT.finditer(line)]
        setting = (YAML_SETTING if yaml_file else ENV_SETTING).match(line)
        if setting and (yaml_file or env_file):
            candidates.append((f"literal {setting.group('key')}", setting))
        for kind, match in candidates:
            value = literal(match.group("value") or "")
            if not NOT_LITERAL.match(value) and (path, value) not in ALLOWED:
                found.append((path, number, kind, value))
    return found


def committed_files(root: Path) -> list[Path]:
    """The files git would commit (tracked and not ignored), or all but the skipped folders."""
    return [root / name for name in repository.committed_files(root)]


def scan(root: Path) -> list[tuple[str, int, str, str]]:
    found = []
    for path in committed_files(root):
        data = path.read_bytes()
        if b"\0" not in data[:8192]:  # not binary
            found += scan_text(path.relative_to(root).as_posix(), data.decode("utf-8", "replace"))
    return found


# Fake credentials, built at run time from pieces, so that no scanner finds them in this file.
FAKE_AWS_ID = "AKIA" + "Z7Q2" * 4
FAKE_PEM = (
    "-----" + "BEGIN " + "PRIVATE KEY" + "-----\nMIIEvQIBADANBg\n-----END " + "PRIVATE KEY-----"
)
FAKE_PHRASE = "Wq8" + "-tr0ub4dor-" + "x9"
FAKE_AWS_40 = "wJalr" + "XUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"  # an AWS secret access key
FAKE_SLACK = "https://hooks.slack.com" + "/services/T0123ABCD/B0123ABCD/" + "abcDEF123ghiJKL"
PLANTS: dict[str, tuple[str, str]] = {
    "private key": ("keys/rsa_key.p8.txt", FAKE_PEM + "\n"),
    "AWS access key id": ("scripts/upload.py", f'KEY_ID = "{FAKE_AWS_ID}"\n'),
    "AWS secret access key": ("config/aws.ini", f"aws_secret_access_key = {FAKE_AWS_40}\n"),
    "GitHub token": ("docs/notes.md", "token " + "ghp_" + "a1B2" * 9 + "\n"),
    "Slack webhook URL": ("airflow/config/alerts.md", FAKE_SLACK + "\n"),
    "password in a URL": (
        "airflow/config/airflow.cfg",
        "sql_alchemy_conn = postgresql://airflow:" + FAKE_PHRASE + "@db:5432/airflow\n",
    ),
    "literal password": (
        "dbt/profiles.yml",
        f"x:\n  outputs:\n    prod:\n      type: snowflake\n      password: {FAKE_PHRASE}\n",
    ),
    "literal SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": (
        ".env.example",
        f"SNOWFLAKE_PRIVATE_KEY_PASSPHRASE='{FAKE_PHRASE}'\n",
    ),
    "env_var() default": (
        "dbt/profiles.yml",
        "password: \"{{ env_var('SNOWFLAKE_PASSWORD', '" + FAKE_PHRASE + "') }}\"\n",
    ),
}


def test_no_file_holds_a_credential_like_value(root: Path) -> None:
    found = scan(root)
    assert not found, (
        "credential-like values in files git would commit (move them to .env, which is "
        "gitignored, and reference them as ${VAR} or {{ env_var('VAR') }}):\n"
        + "\n".join(
            f"{p}:{n}: {kind} ({v[:4] + '...' if len(v) > 4 else '...'})" for p, n, kind, v in found
        )
    )


@pytest.mark.parametrize("kind", sorted(PLANTS))
def test_a_planted_credential_is_found(kind: str, tmp_path: Path) -> None:
    relative, content = PLANTS[kind]
    (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / relative).write_text(content)
    found = scan(tmp_path)
    assert [(path, what) for path, _, what, _ in found] == [(relative, kind)], found


def test_a_key_planted_in_a_copy_of_this_repository_is_found(root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    for path in committed_files(root):
        target = copy / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    readme = copy / "README.md"
    readme.write_text(readme.read_text() + f"\nDeploy key id: {FAKE_AWS_ID}\n")
    found = scan(copy)
    assert [(path, what) for path, _, what, _ in found] == [("README.md", "AWS access key id")], (
        found
    )


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("docker-compose.yml", "  POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"),
        ("dbt/profiles.yml", "  private_key_passphrase: \"{{ env_var('SNOWFLAKE_KEY', '') }}\""),
        ("astronomer/astronomer.yaml", "      is_secret: true"),
        ("astronomer/airflow_settings.yaml", "      conn_password:"),
        (".env.example", "POSTGRES_PASSWORD="),
        ("airflow/config/airflow.env", "AIRFLOW__SECRETS__BACKEND=airflow.secrets.Backend"),
        ("docs/setup.md", "postgresql://airflow:${POSTGRES_PASSWORD}@postgres/airflow"),
        ("docs/setup.md", "snowflake://<user>:<password>@<account>/"),
    ],
)
def test_references_and_empty_settings_pass(path: str, line: str) -> None:
    assert scan_text(path, line + "\n") == []


def test_a_local_stacks_default_password_is_found() -> None:
    """No exception for a local stack: the Astro stack's password comes from .env too."""
    line = "  conn: postgresql://postgres:" + "postgres@postgres\n"
    found = scan_text("astronomer/docker-compose.yml", line)
    assert [kind for _, _, kind, _ in found] == ["password in a URL"], found
