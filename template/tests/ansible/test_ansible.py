"""infrastructure/ansible/ passes ansible-playbook --syntax-check, ansible-lint and a dry run.

The tools are ansible-core and ansible-lint from PyPI (the dev group `make setup` installs).
Everything runs offline: the playbooks use ansible.builtin modules only, so no collection is
installed, and the dry run (`--check`) targets this machine through inventories/local,
which needs neither root nor systemd.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, require

ANSIBLE = ROOT / "infrastructure" / "ansible"
PLAYBOOKS = sorted((ANSIBLE / "playbooks").glob("*.yml"))
BIN = Path(sys.executable).parent
#: Task keys that are not the module a task calls.
TASK_KEYWORDS = {
    "name", "when", "loop", "notify", "become", "become_user", "no_log", "register", "tags",
    "changed_when", "failed_when", "vars", "listen", "check_mode", "loop_control", "block",
}  # fmt: skip
SECRET_KEY = re.compile(r"password|passphrase|secret|token|private_key(?!_path)", re.IGNORECASE)


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN))
    require(found is not None, f"{name} (PyPI ansible-core, ansible-lint)")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Ansible's settings for the tests: this folder's ansible.cfg, caches in a scratch dir."""
    return {
        **os.environ,
        "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg"),
        "ANSIBLE_HOME": str(tmp_path_factory.mktemp("ansible_home")),
        "ANSIBLE_NOCOLOR": "1",
        "NO_COLOR": "1",
        "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
    }


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=180
    )


def test_the_folder_has_playbooks_roles_and_inventories() -> None:
    assert PLAYBOOKS, "infrastructure/ansible/playbooks/ has no playbook"
    for role in (ANSIBLE / "roles").iterdir():
        assert (role / "tasks" / "main.yml").is_file(), f"role {role.name} has no tasks/main.yml"
        meta = yaml.safe_load((role / "meta" / "main.yml").read_text())
        assert meta["galaxy_info"]["description"], f"role {role.name}: meta/main.yml"
    for environment in ("dev", "prod", "local"):
        assert (ANSIBLE / "inventories" / environment / "hosts.yml").is_file(), environment


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=lambda p: p.name)
def test_playbook_passes_syntax_check(playbook: Path, env: dict[str, str]) -> None:
    for inventory in ("dev", "prod"):
        result = run(
            [tool("ansible-playbook"), "--syntax-check", "-i",
             f"inventories/{inventory}/hosts.yml", str(playbook.relative_to(ANSIBLE))],
            ANSIBLE, env,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr


def test_syntax_check_rejects_a_broken_playbook(env: dict[str, str], tmp_path: Path) -> None:
    copy = tmp_path / "ansible"
    shutil.copytree(ANSIBLE, copy)
    broken = copy / "playbooks" / "broken.yml"
    broken.write_text(
        "---\n- name: Broken\n  hosts: runners\n  tasks:\n"
        "    - name: Two modules in one task\n"
        "      ansible.builtin.debug:\n        msg: one\n"
        "      ansible.builtin.ping:\n"
    )
    result = run(
        [tool("ansible-playbook"), "--syntax-check", "playbooks/broken.yml"],
        copy, {**env, "ANSIBLE_CONFIG": str(copy / "ansible.cfg")},
    )  # fmt: skip
    assert result.returncode != 0, result.stdout
    assert "conflicting action statements" in result.stdout + result.stderr


def test_ansible_lint_production_profile(env: dict[str, str]) -> None:
    result = run([tool("ansible-lint"), "--offline", "--profile", "production"], ANSIBLE, env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ansible_lint_rejects_a_careless_task(env: dict[str, str], tmp_path: Path) -> None:
    copy = tmp_path / "ansible"
    shutil.copytree(ANSIBLE, copy)
    tasks = copy / "roles" / "base" / "tasks" / "main.yml"
    tasks.write_text(tasks.read_text() + "\n- command: echo no name, no changed_when\n")
    result = run(
        [tool("ansible-lint"), "--offline", "--profile", "production"],
        copy, {**env, "ANSIBLE_CONFIG": str(copy / "ansible.cfg")},
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "name[missing]" in output and "fqcn[action-core]" in output, output


def tasks_of(path: Path) -> list[dict]:
    found: list[dict] = []
    for task in yaml.safe_load(path.read_text()) or []:
        found += tasks_of_block(task)
    return found


def tasks_of_block(task: dict) -> list[dict]:
    if "block" in task:
        return [t for inner in task["block"] for t in tasks_of_block(inner)]
    return [task]


def test_only_builtin_modules_are_used() -> None:
    """No collection to install: every task calls an ansible.builtin module."""
    for path in sorted((ANSIBLE / "roles").glob("*/*/main.yml")):
        if path.parent.name not in {"tasks", "handlers"}:
            continue
        for task in tasks_of(path):
            modules = set(task) - TASK_KEYWORDS
            assert len(modules) == 1, f"{path.relative_to(ROOT)}: {task.get('name')}: {modules}"
            assert modules.pop().startswith("ansible.builtin."), (
                f"{path.relative_to(ROOT)}: {task.get('name')} uses a module outside "
                "ansible.builtin, which needs a collection: use an ansible.builtin module"
            )


def test_no_secret_is_stored() -> None:
    """Secret values in inventories come from the environment (lookup env), never a literal."""
    for path in sorted(ANSIBLE.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text()
        assert "-----BEGIN" not in text, f"{path.relative_to(ROOT)} holds a key"
        for key, value in re.findall(r"^\s*(\w+):\s*(.+)$", text, re.MULTILINE):
            if SECRET_KEY.search(key):
                assert "lookup('ansible.builtin.env'" in value, (
                    f"{path.relative_to(ROOT)}: {key} must come from the environment "
                    "(lookup('ansible.builtin.env', ...)) or your vault, not a literal"
                )


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=lambda p: p.name)
def test_check_run_on_localhost(playbook: Path, env: dict[str, str], tmp_path: Path) -> None:
    """--check against this machine: every task evaluates, templates render, nothing fails."""
    git = shutil.which("git")
    require(git is not None, "git")
    assert git is not None
    # The checkout task needs a repository with a commit; this one may have none yet.
    source = tmp_path / "source"
    source.mkdir()
    identity = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost"}
    identity |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@localhost"}
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "source"]):
        subprocess.run([git, *args], cwd=source, env={**env, **identity}, check=True)
    result = run(
        [tool("ansible-playbook"), "-i", "inventories/local/hosts.yml", "--check",
         "-e", "ansible_python_interpreter={{ ansible_playbook_python }}",
         "-e", f"runner_repository={source} base_home={tmp_path / 'home'}",
         str(playbook.relative_to(ANSIBLE))],
        ANSIBLE, env,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    recap = re.search(r"localhost\s*:\s*ok=(\d+).*failed=(\d+)", output)
    assert recap and recap[2] == "0" and int(recap[1]) > 0, output
    assert not (tmp_path / "home").exists(), "--check wrote files"
