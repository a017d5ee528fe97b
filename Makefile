# Callbridge: `make run` starts the product on its embedded defaults, `make test` runs every check,
# `make check` is the quick loop (lint, types, every test not marked slow).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test check lint typecheck bench clean browser

$(BIN)/python:
	@echo "First use: creating .venv and installing Callbridge's dependencies (about a minute)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing Callbridge and its dependencies into .venv..."
	$(BIN)/pip install -q -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(STAMP)
	@echo "Installing the test tools into .venv..."
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: $(STAMP)
	$(BIN)/callbridge serve

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# mypy --strict on src/callbridge and tests/ (the files list of [tool.mypy] in pyproject.toml).
typecheck: $(TEST_STAMP)
	$(BIN)/mypy

# The browser tests (tests/ui) drive Debian's Chromium and fail without it: install it if missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@test -x /usr/bin/chromium || { echo "Installing Debian's chromium for the browser tests..."; \
	  $(SUDO) apt-get install -y chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }; }

# The tests run in PYTEST_WORKERS processes (pytest-xdist): the tests sharing a server stay in one
# process (tests/conftest.py groups them), the rest go to whichever is free. PYTEST_WORKERS=0 runs
# them in this process, one after another.
PYTEST_WORKERS ?= 3
PARALLEL := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadgroup)

test: lint typecheck browser
	$(BIN)/pytest -q $(PARALLEL)

# Tests marked slow start real server processes (tests/e2e, BottleCRM, HubSpot end to end, the
# demo, a separate worker's metrics); `make test` runs them, the quick loop leaves them out.
check: lint typecheck
	$(BIN)/pytest -q $(PARALLEL) -m "not slow"

bench: $(TEST_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
