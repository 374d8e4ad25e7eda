# Xiaowei Hub — the two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: install run test lint types migrations-check test-sqlite test-postgres clean

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the hub on its embedded default: SQLite, in-memory channel layer, files under ./var.
run: $(STAMP)
	$(PY) manage.py serve

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: $(STAMP)
	$(VENV)/bin/mypy .

migrations-check: $(STAMP)
	HUB_DATA_DIR=$$(mktemp -d) $(PY) manage.py makemigrations --check --dry-run

test-sqlite: $(STAMP)
	$(VENV)/bin/pytest

# The same suite on PostgreSQL (pytest-django creates and drops test_postgres itself).
test-postgres: $(STAMP)
	HUB_TEST_DATABASE_URL=$(PG_TEST_URL) $(VENV)/bin/pytest -m "not browser and not slow" tests/hub tests/messaging

## The whole suite: lint, types, migrations, unit + integration + browser on SQLite, then PostgreSQL.
test: lint types migrations-check test-sqlite test-postgres

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
