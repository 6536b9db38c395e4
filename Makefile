# The template's own commands. `make prototype` renders the default prototype,
# `make test` runs the template's tests (README.md).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
DEST ?= ../my-prototype
NAME ?= My Prototype
PYTEST_ARGS ?=
# Test processes (pytest-xdist): the boots are CPU-bound, so one per core.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: help setup checkov-venv prototype test test-fast lint bench bench-green docs sync release

help: ## List the commands
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.synced: pyproject.toml uv.lock
	@test -x $(VENV)/bin/uv || { $(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install --quiet uv==$(UV_VERSION); }
	$(VENV)/bin/uv sync --frozen --quiet --compile-bytecode
	@touch $@

setup: $(VENV)/.synced ## Create .venv with the template's pinned dev tools

# checkov needs packaging<24, which .venv's tools cannot share: it has a venv of its own.
.venv-checkov/.installed: tests/requirements-checkov.txt
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet -r tests/requirements-checkov.txt
	@touch $@

checkov-venv: .venv-checkov/.installed ## Create .venv-checkov with checkov (tests/test_rendered_infrastructure.py)

prototype: setup ## Render a prototype into DEST (default ../my-prototype): NAME=..., COMPONENTS=airflow,snowflake (default: the defaults)
	@test ! -e "$(DEST)" || { echo "$(DEST) exists already: choose another DEST=..." >&2; exit 1; }
	$(VENV)/bin/copier copy --trust --defaults --vcs-ref HEAD -d project_name="$(NAME)" $(if $(filter undefined,$(origin COMPONENTS)),,-d "components=[$(COMPONENTS)]") "$(CURDIR)" "$(DEST)"

test: setup ## Run every test, the slow boot of each named variant included (JOBS processes)
	$(VENV)/bin/python -m pytest -n $(JOBS) --dist worksteal --durations=30 $(PYTEST_ARGS)

test-fast: setup ## Run the tests that do not boot variants
	$(VENV)/bin/python -m pytest -m "not slow" $(PYTEST_ARGS)

sync: setup ## Rewrite what the component catalog decides (copier.yml's choices, README table, CI matrix)
	$(VENV)/bin/python scripts/sync.py

lint: setup ## ruff on the template's own Python
	$(VENV)/bin/ruff check extensions tests scripts docs
	$(VENV)/bin/ruff format --check extensions tests scripts docs
	$(VENV)/bin/python scripts/sync.py --check

docs: setup ## Build the documentation site into site/ (mkdocs build --strict)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

release: setup ## Release VERSION=x.y.z: check, run every test, then commit, tag v<VERSION> and record it
	$(VENV)/bin/python scripts/release.py --pytest-args="$(PYTEST_ARGS)" "$(VERSION)"

bench: setup ## Measure copy and update times; PEER=clone also renders the peer template (scripts/bench.py)
	$(VENV)/bin/python scripts/bench.py $(if $(PEER),--peer "$(PEER)")

bench-green: setup ## Time a newcomer's copy to green (render, setup, lint, test) of VARIANTS (default: defaults full)
	$(VENV)/bin/python scripts/bench_green.py $(foreach variant,$(or $(VARIANTS),defaults full),--variant $(variant))
