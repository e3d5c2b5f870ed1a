# Two commands: `make run` (embedded default) and `make test` (lint, contracts, types, suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: run test lint bench bench-catalog clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(BIN)/nexo migrate
	NEXO_DEMO=$${NEXO_DEMO:-1} $(BIN)/nexo serve

lint: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP_DEV)
	$(BIN)/python -m bench.reservations

bench-catalog: $(STAMP_DEV)
	$(BIN)/python -m bench.catalog

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
