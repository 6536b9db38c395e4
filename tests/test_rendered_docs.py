"""Every named variant's documentation speaks of the repository it was rendered with.

Backticked paths in README.md, QUICKSTART.md and docs/ exist; the Mermaid diagrams parse
and name only chosen components (the architecture diagram each chosen one); QUICKSTART
walks through make targets that exist, in the order setup, demo, lint, test; every
relative link of the rendered Markdown resolves and every `make X` it mentions is a
target. Each variant renders once per module; each check also runs on an edited copy
of a render, where it must fail.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from catalog import COMPONENTS, named_variants
from rendering import render, snapshot

VARIANTS = named_variants()
#: Every catalog component: key (the Mermaid node id) and label.
LABELS: dict[str, str] = {c.key: c.label for c in COMPONENTS}
#: The steps QUICKSTART.md must walk a newcomer through, in this order.
QUICKSTART_STEPS = ("setup", "demo", "lint", "test")
#: Backticked paths under these prefixes are written by a run, so a fresh clone lacks them.
GENERATED = (".local/", ".venv/", ".tools/", "dbt/target/", "dbt/logs/")
#: A backticked span without a "/" is a path only when it ends in one of these.
PATH_SUFFIXES = {".md", ".py", ".yml", ".yaml", ".sql", ".json", ".lkml", ".lookml", ".tf"}
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
SPAN = re.compile(r"`([^`\n]+)`")
MAKE_TARGET = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):", re.MULTILINE)
MAKE_MENTION = re.compile(r"\bmake ([a-z][a-z0-9_-]*)")
MAKE_SPAN = re.compile(r"`make ([a-z][a-z0-9_-]*)")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
MERMAID = re.compile(r"^```mermaid\n(.*?)^```", re.MULTILINE | re.DOTALL)
# Mermaid's flowchart lines the template writes: a header, nodes, subgraphs and edges.
HEADER = re.compile(r"^flowchart (LR|RL|TB|TD|BT)$")
NODE = re.compile(r'^(\w+)(\[\(|\(\[|\[\[|\(\(|\[|\(|\{)"?(.*?)"?(\)\]|\]\)|\]\]|\)\)|\]|\)|\})$')
SUBGRAPH = re.compile(r'^subgraph (\w+)\["?(.*?)"?\]$')
EDGE = re.compile(r"^(\w+) (-->|-\.->|==>)(?:\|([^|]*)\|)? (\w+)$")
ARCHITECTURE = "docs/architecture/system_architecture.md"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(tmp_path_factory.mktemp("template") / "repo")


@pytest.fixture(scope="module")
def rendered(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The render of a named variant, made on first use and shared by the module's tests."""
    renders: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in renders:
            renders[name] = render(template, tmp_path_factory.mktemp(name) / "p", VARIANTS[name])
        return renders[name]

    return get


def edited_copy(rendered: Callable[[str], Path], name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(rendered(name), tmp_path / name))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer holds {old!r}: update this test's edit"
    path.write_text(text.replace(old, new, 1))


# ---------------------------------------------------------------------------
# The checks: each returns the problems it finds in a rendered repository
# ---------------------------------------------------------------------------
def doc_pages(root: Path) -> list[Path]:
    """The pages written for the repository as a whole (component READMEs have their tests)."""
    return [root / "README.md", root / "QUICKSTART.md", *sorted((root / "docs").rglob("*.md"))]


def markdown_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.md"))


def chosen_components(root: Path) -> set[str]:
    return set(yaml.safe_load((root / ".copier-answers.yml").read_text()).get("components") or [])


def mentioned_paths(text: str) -> set[str]:
    """Repository paths written in backticks outside code blocks."""
    found = set()
    for span in SPAN.findall(FENCE.sub("", text)):
        if re.search(r"[\s<>*$=(){}'\"]|://", span) or span.startswith(GENERATED):
            continue
        if "/" in span or Path(span).suffix in PATH_SUFFIXES:
            found.add(span)
    return found


def missing_paths(root: Path) -> list[str]:
    return sorted(
        f"{doc.relative_to(root)}: {path}"
        for doc in doc_pages(root)
        for path in mentioned_paths(doc.read_text())
        if not (root / path).exists()
    )


def parse_flowchart(block: str) -> tuple[dict[str, str], list[str], list[str]]:
    """Nodes (id -> label, subgraphs included), edge labels, and the lines that do not parse."""
    nodes: dict[str, str] = {}
    edge_labels: list[str] = []
    edges: list[tuple[str, str]] = []
    errors: list[str] = []
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    if not lines or not HEADER.match(lines[0]):
        errors.append(f"the first line is not a flowchart header: {lines[:1]}")
    for line in lines[1:]:
        if line == "end":
            continue
        if match := SUBGRAPH.match(line) or NODE.match(line):
            nodes[match.group(1)] = match.group(2) if line.startswith("subgraph ") else match[3]
        elif match := EDGE.match(line):
            edges.append((match[1], match[4]))
            edge_labels.append(match[3] or "")
        else:
            errors.append(f"not a node, subgraph or edge: {line!r}")
    errors += [f"edge to an undeclared node: {a} -> {b}" for a, b in edges if {a, b} - set(nodes)]
    return nodes, edge_labels, errors


def named_components(block: str) -> set[str]:
    """The catalog components a diagram names, by node id or by label."""
    nodes, edge_labels, _ = parse_flowchart(block)
    texts = [*nodes.values(), *edge_labels]
    named = {key for key in nodes if key in LABELS}
    for key, label in LABELS.items():
        words = rf"\b({re.escape(key)}|{re.escape(label)})\b"
        if any(re.search(words, text, re.IGNORECASE) for text in texts):
            named.add(key)
    return named


def diagram_problems(root: Path) -> list[str]:
    """Diagrams that do not parse or name a component that is not chosen."""
    chosen = chosen_components(root)
    problems = []
    for doc in doc_pages(root):
        for block in MERMAID.findall(doc.read_text()):
            problems += [f"{doc.relative_to(root)}: {e}" for e in parse_flowchart(block)[2]]
            foreign = named_components(block) - chosen
            if foreign:
                problems.append(f"{doc.relative_to(root)} shows {sorted(foreign)}, not chosen")
    return problems


def absent_from_architecture(root: Path) -> set[str]:
    blocks = MERMAID.findall((root / ARCHITECTURE).read_text())
    assert blocks, f"{ARCHITECTURE} has no mermaid block"
    return chosen_components(root) - named_components(blocks[0])


def quickstart_problems(root: Path) -> list[str]:
    targets = set(MAKE_TARGET.findall((root / "Makefile").read_text()))
    mentioned = MAKE_MENTION.findall((root / "QUICKSTART.md").read_text())
    problems = [
        f"`make {t}` is not a target of the Makefile" for t in mentioned if t not in targets
    ]
    firsts = list(dict.fromkeys(step for step in mentioned if step in QUICKSTART_STEPS))
    if firsts != list(QUICKSTART_STEPS):
        problems.append(f"the steps are {firsts}, not {list(QUICKSTART_STEPS)} in this order")
    return problems


def missing_make_targets(root: Path) -> list[str]:
    """`make X` spans of the Markdown whose target the Makefile lacks."""
    targets = set(MAKE_TARGET.findall((root / "Makefile").read_text()))
    return sorted(
        f"{doc.relative_to(root)}: make {target}"
        for doc in markdown_files(root)
        for target in MAKE_SPAN.findall(doc.read_text())
        if target not in targets
    )


def broken_links(root: Path) -> list[str]:
    return [
        f"{doc.relative_to(root)} -> {target}"
        for doc in markdown_files(root)
        for target in LINK.findall(doc.read_text())
        if "://" not in target
        and not target.startswith("mailto:")
        and not (doc.parent / target).exists()
    ]


# ---------------------------------------------------------------------------
# Every named variant passes them
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(VARIANTS))
def test_rendered_docs_agree_with_the_render(rendered: Callable[[str], Path], name: str) -> None:
    root = rendered(name)
    problems = {
        "paths the render lacks": missing_paths(root),
        "diagrams against the chosen components": diagram_problems(root),
        f"chosen components {ARCHITECTURE} leaves out": sorted(absent_from_architecture(root)),
        "QUICKSTART.md against the Makefile": quickstart_problems(root),
        "make targets the Makefile lacks": missing_make_targets(root),
        "broken relative links": broken_links(root),
    }
    failing = {check: found for check, found in problems.items() if found}
    assert not failing, f"the docs of {name} disagree with its render: {failing}"


# ---------------------------------------------------------------------------
# ... and each fails on a copy of a render edited to break it
# ---------------------------------------------------------------------------
def test_path_check_finds_a_missing_file(rendered: Callable[[str], Path], tmp_path: Path) -> None:
    root = edited_copy(rendered, "minimal", tmp_path)
    with (root / "docs" / "README.md").open("a") as page:
        page.write("Built by `dbt/models/marts/fct_orders.sql` and `dbt/models/marts/gone.sql`.\n")
    assert missing_paths(root) == ["docs/README.md: dbt/models/marts/gone.sql"]


def test_path_check_ignores_code_blocks_commands_and_generated_files() -> None:
    text = (
        "```bash\ncat `no/such/file.md`\n```\n"
        "Run `make test`, read `.local/migration/readiness_report.md`, `loads/batch_<N>.json`.\n"
    )
    assert mentioned_paths(text) == set()


def test_diagram_check_finds_a_foreign_component_and_a_broken_line(
    rendered: Callable[[str], Path], tmp_path: Path
) -> None:
    root = edited_copy(rendered, "only-airflow", tmp_path)
    with (root / ARCHITECTURE).open() as page:
        text = page.read()
    end = text.index("```", text.index("```mermaid") + 3)
    extra = f'    extra["{LABELS["looker"]} server"]\n    extra -->\n'
    (root / ARCHITECTURE).write_text(text[:end] + extra + text[end:])
    problems = diagram_problems(root)
    assert any("['looker'], not chosen" in problem for problem in problems), problems
    assert any("extra -->" in problem for problem in problems), problems


def test_architecture_check_finds_a_chosen_component_left_out(
    rendered: Callable[[str], Path], tmp_path: Path
) -> None:
    root = edited_copy(rendered, "only-airflow", tmp_path)
    edit(root / ".copier-answers.yml", "- airflow", "- airflow\n- qlik")
    assert absent_from_architecture(root) == {"qlik"}


def test_quickstart_check_finds_a_missing_target_and_step(
    rendered: Callable[[str], Path], tmp_path: Path
) -> None:
    root = edited_copy(rendered, "minimal", tmp_path)
    edit(root / "Makefile", "\ndemo:", "\ndemonstration:")
    assert "`make demo` is not a target of the Makefile" in quickstart_problems(root)
    assert "QUICKSTART.md: make demo" in missing_make_targets(root)
    edit(root / "Makefile", "\ndemonstration:", "\ndemo:")
    (root / "QUICKSTART.md").write_text(
        (root / "QUICKSTART.md").read_text().replace("make demo", "make build")
    )
    assert any("not ['setup'" in problem for problem in quickstart_problems(root))


def test_link_check_finds_a_broken_link(rendered: Callable[[str], Path], tmp_path: Path) -> None:
    root = edited_copy(rendered, "minimal", tmp_path)
    with (root / "docs" / "README.md").open("a") as page:
        page.write("See [the gone page](gone.md#top) and [the site](https://example.com/x.md).\n")
    assert broken_links(root) == ["docs/README.md -> gone.md"]
