"""The template's documentation site: it builds strictly, and it agrees with its sources.

``mkdocs build --strict`` runs with the hook ``docs/hooks/generate.py``, which generates the
question reference from ``copier.yml``, each component's page, facts and place in the nav
from its module (``components/<key>/``), and the changelog page from ``CHANGELOG.md``.
Broken copies of the site (a dead link, a component without a page) prove the build
rejects them.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from catalog import COMPONENTS
from conftest import ROOT, require_tool
from copier._template import load_template_config

CONFIG = ROOT / "mkdocs.yml"
DOCS = ROOT / "docs"
HOOK = DOCS / "hooks" / "generate.py"


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` of ``config`` into ``site``."""
    require_tool(
        importlib.util.find_spec("mkdocs") is not None
        and importlib.util.find_spec("material") is not None,
        "mkdocs and mkdocs-material (the dev group: make setup)",
    )
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=120,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = mkdocs_build(CONFIG, out)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return out


def page_text(site: Path, page: str) -> str:
    """The visible text of a built page's article (no navigation)."""
    source = (site / page).read_text(encoding="utf-8")
    article = re.search(r"<article\b.*?</article>", source, re.S)
    assert article, f"{page} has no <article>"
    return html.unescape(re.sub(r"<[^>]+>", "", article.group(0)))


def broken_copy(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of docs/ and of mkdocs.yml pointing at it (the hook stays the real one)."""
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs, ignore=shutil.ignore_patterns("__pycache__"))
    for page in (ROOT / "components").glob("*/docs.md"):
        target = tmp_path / "components" / page.parent.name / "docs.md"
        target.parent.mkdir(parents=True)
        target.write_bytes(page.read_bytes())
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config.update(docs_dir=str(docs), hooks=[str(HOOK)])
    config.pop("watch", None)
    path = tmp_path / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path, docs


def test_site_builds_strictly(site: Path) -> None:
    assert (site / "index.html").is_file()
    assert (site / "changelog" / "index.html").is_file()


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    config, docs = broken_copy(tmp_path)
    updating = docs / "updating.md"
    updating.write_text(updating.read_text() + "\nSee [the old guide](no-such-page.md).\n")
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode != 0, "a link to a missing page must fail mkdocs build --strict"
    assert "no-such-page.md" in result.stderr


def test_a_component_without_a_page_fails_the_build(tmp_path: Path) -> None:
    config, _ = broken_copy(tmp_path)
    (tmp_path / "components" / "looker" / "docs.md").unlink()
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode != 0, "a catalog component without a page must fail the build"
    assert "components/looker/docs.md is missing" in result.stderr


def test_a_component_page_outside_its_module_fails_the_build(tmp_path: Path) -> None:
    config, docs = broken_copy(tmp_path)
    (docs / "components" / "looker.md").write_text("# Looker\n")
    result = mkdocs_build(config, tmp_path / "site")
    assert result.returncode != 0, "a page in docs/components/ would hide the module's page"
    assert "components/looker.md: a component's page lives in its module" in result.stderr


def test_every_component_has_a_page_listed_in_the_nav(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    for component in COMPONENTS:
        page = f"components/{component.key}/index.html"
        assert (site / page).is_file(), (
            f"components/{component.key}/docs.md is missing: add a page for the component "
            f"{component.key}"
        )
        assert f'href="components/{component.key}/"' in home, (
            f"the nav of the site does not list {component.key} (docs/hooks/generate.py fills "
            "the Components section of mkdocs.yml's nav from the catalog)"
        )
        text = page_text(site, page)
        assert component.help in " ".join(text.split()), (
            f"{page} lacks the catalog's help of {component.key}: keep the line "
            f"'<!-- generated: facts -->' in components/{component.key}/docs.md"
        )


def test_the_questions_page_lists_every_question(site: Path) -> None:
    questions = load_template_config(ROOT / "copier.yml")
    built = (site / "questions" / "index.html").read_text(encoding="utf-8")
    text = " ".join(page_text(site, "questions/index.html").split())
    for name, spec in questions.items():
        if name.startswith("_"):
            continue
        assert f'id="{name}"' in built, f"copier.yml's question {name} is not on the Questions page"
        assert " ".join(str(spec["help"]).split()) in text, f"the help of {name} is missing"


def test_the_changelog_page_is_the_changelog(site: Path) -> None:
    text = page_text(site, "changelog/index.html")
    headings = re.findall(r"^#+ (.+)$", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert headings
    for heading in headings:
        assert heading in text, f"CHANGELOG.md's heading {heading!r} is not on the changelog page"


def two_commands(markdown: str, where: str) -> str:
    """The first bash block of the section 'The two commands'."""
    match = re.search(r"^## The two commands\n.*?```bash\n(.*?)```", markdown, re.S | re.M)
    assert match, f"{where} has no bash block under '## The two commands'"
    return match.group(1)


def test_getting_started_shows_the_two_commands_of_the_readme() -> None:
    readme = two_commands((ROOT / "README.md").read_text(), "README.md")
    docs = two_commands((DOCS / "index.md").read_text(), "docs/index.md")
    assert docs == readme, (
        "docs/index.md and README.md show different commands under '## The two commands': "
        "copy README.md's block into docs/index.md"
    )
