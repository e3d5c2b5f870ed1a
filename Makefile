# Two commands: `make run` (embedded default) and `make test` (lint, contracts, types, suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

LOCK_RUN := requirements.lock
LOCK_DEV := requirements-dev.lock

.PHONY: run test lint schema lock lock-upgrade bench bench-catalog bench-checkout wrk clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs come from the lock files (exact versions, hashes checked); pyproject.toml keeps the
# ranges. `pip check` fails when pyproject.toml needs what the locks lack: run `make lock`.
define install_locked
	$(BIN)/pip install --quiet --require-hashes -r $(1)
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check || { echo "The lock files miss what pyproject.toml needs: run make lock" >&2; exit 1; }
endef

$(STAMP_RUN): pyproject.toml $(LOCK_RUN) | $(BIN)/python
	$(call install_locked,$(LOCK_RUN))
	touch $@

$(STAMP_DEV): pyproject.toml $(LOCK_DEV) | $(BIN)/python
	$(call install_locked,$(LOCK_DEV))
	touch $@ $(STAMP_RUN)

# The locks from pyproject.toml's ranges: `lock` keeps today's pins and adds what is new,
# `lock-upgrade` moves every pin to the newest release within the ranges.
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: | $(BIN)/python
	$(BIN)/pip install --quiet "pip-tools>=7.4"
	$(PIP_COMPILE) --output-file $(LOCK_RUN) pyproject.toml
	$(PIP_COMPILE) --extra dev --constraint $(LOCK_RUN) --output-file $(LOCK_DEV) pyproject.toml

lock-upgrade:
	$(MAKE) lock LOCK_ARGS=--upgrade

# schema.graphql (partners generate clients from it; a test keeps it equal to the code).
schema: $(STAMP_RUN)
	$(BIN)/nexo schema > schema.graphql

# The demo (every marketplace sandbox in the process, a seeded catalog, simulated buyers; watch
# it on /board) has its own development entry point, `nexo-sandbox demo`: production code never
# imports the sandboxes. NEXO_DEMO=0 serves Nexo alone; NEXO_DEMO_ORDERS_PER_MINUTE sets the
# buyers' pace (0: none).
run: $(STAMP_RUN)
	$(BIN)/nexo migrate
	@if [ "$${NEXO_DEMO:-1}" = 1 ]; then $(BIN)/nexo-sandbox demo; else $(BIN)/nexo serve; fi

lint: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The suite in two parts: everything but the `solo` tests spread over the machine's cores (each
# pytest-xdist worker has its own PostgreSQL database and Redis database; a file's tests stay
# on one worker, so an end-to-end module starts its processes once — by file, because
# pytest-xdist's `loadgroup` reads a node id pytest 9 no longer takes from it), then the
# `solo` tests, which assert latencies across real processes or inject faults, one at a time.
# Four workers on any machine: a test spends about half its time waiting (on PostgreSQL, on
# processes it started, on deadlines), so two workers on two cores left half the CPU idle.
TEST_WORKERS ?= 4
test: lint
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses=4 --dist loadfile -m "not solo" $(PYTEST_ARGS)
	$(BIN)/pytest -m solo $(PYTEST_ARGS)

bench: $(STAMP_DEV) wrk
	$(BIN)/python -m bench.reservations

# wrk drives the HTTP benchmarks (a Debian package); installed when missing.
wrk:
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

bench-checkout: $(STAMP_DEV) wrk
	$(BIN)/python -m bench.checkout

bench-catalog: $(STAMP_DEV)
	$(BIN)/python -m bench.catalog

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
