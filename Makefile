# Xiaowei Hub — the two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: install run cluster test test-passes lint types migrations-check test-sqlite test-browser test-postgres clean frontend-build frontend-check frontend-check-run

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the hub on its embedded default: SQLite, in-memory channel layer, files under ./var.
run: $(STAMP)
	$(PY) manage.py serve

## The scaled-out topology of docker/compose.yaml on loopback, without Docker: a fresh PostgreSQL
## database (dropped on exit), Redis under a unique prefix, $(PROCS) daphne processes, the task
## worker, the search indexer and a load balancer in front. Ctrl-C stops it (docs/deployment.md).
PROCS ?= 2
cluster: $(STAMP)
	$(PY) bench/cluster.py --full --procs $(PROCS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: $(STAMP)
	$(VENV)/bin/mypy .

migrations-check: $(STAMP)
	HUB_DATA_DIR=$$(mktemp -d) $(PY) manage.py makemigrations --check --dry-run

test-sqlite: $(STAMP)
	$(VENV)/bin/pytest -m "not browser"

# Browser tests run in their own pytest process: Playwright's sync API keeps an event loop
# running in the main thread for the whole session, which breaks asyncio tests that follow.
test-browser: $(STAMP)
	$(VENV)/bin/pytest -m browser tests/e2e

# The same suite on PostgreSQL (pytest-django creates and drops test_postgres itself).
test-postgres: $(STAMP)
	HUB_TEST_DATABASE_URL=$(PG_TEST_URL) $(VENV)/bin/pytest -m "not browser and not slow" tests/hub tests/messaging tests/search tests/docs_collab tests/integrations tests/crm_bridge tests/ops tests/security

## Build the web app (frontend/, React + TypeScript + Vite) into the committed static/app/.
## Needs Node.js >= 20.19 and the npm registry; `make run` itself never needs Node.js.
frontend-build:
	cd frontend && npm ci --no-audit --no-fund && npm run build

## Web app unit tests (Vitest), then rebuild and fail if the committed static/app is stale.
## Without Node.js: a loud skip, or a failure under HUB_REQUIRE_ALL=1 (as .ci/run sets).
frontend-check:
	@if command -v node >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory frontend-check-run; \
	else \
	  notice="*** Node.js is not available (node not found): web app unit tests and the bundle check are SKIPPED ***"; \
	  if [ "$$HUB_REQUIRE_ALL" = "1" ]; then echo "$$notice — HUB_REQUIRE_ALL=1 forbids skipping" >&2; exit 1; fi; \
	  echo "$$notice" >&2; \
	fi

frontend-check-run:
	cd frontend && npm ci --no-audit --no-fund
	cd frontend && npx vitest run
	cd frontend && npm run build
	@if ! git diff --quiet -- static/app || [ -n "$$(git status --porcelain --untracked-files=all -- static/app)" ]; then \
	  git status --short -- static/app; \
	  echo "*** static/app is stale: run 'make frontend-build' and commit static/app ***" >&2; exit 1; \
	fi

## The whole suite: lint, types, migrations, web app, unit + integration + browser on SQLite, then PostgreSQL.
test: lint types migrations-check frontend-check test-passes test-browser

## The SQLite and PostgreSQL passes are independent (own database, own data dir, own Redis
## prefixes): they run side by side, one per core, each printing its log when it finishes;
## both must pass.
test-passes: $(STAMP)
	$(MAKE) --no-print-directory -j2 -Otarget test-sqlite test-postgres

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
