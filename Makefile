# The two commands a new user needs: `make run` and `make test`. Everything else is set up by them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: load fuzz run test lint typecheck pytest pytest-sqlite pytest-postgres frontend migrate lock clean bench

$(STAMP): requirements/dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/dev.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . \
	  || $(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# npm ci from the committed lock file, again only when the lock file changes.
frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

frontend/dist/index.html: frontend/node_modules/.package-lock.json frontend/package.json frontend/vite.config.ts $(shell find frontend/src frontend/public frontend/scripts frontend/index.html -type f 2>/dev/null)
	cd frontend && npm run build

frontend: frontend/dist/index.html

# Unit tests of the app's outbox, sync, uploads' hashing and formatting (Vitest).
frontend-test: frontend/node_modules/.package-lock.json
	cd frontend && npm test

# The app in Debian's Chromium against a real server (Playwright; skipped with a reason
# when /usr/bin/chromium is missing, failing instead when CI=true).
e2e: $(STAMP) frontend
	bash tests/e2e/run.sh

migrate: $(STAMP)
	$(BIN)/waymark migrate

run: $(STAMP) frontend migrate
	$(BIN)/waymark serve

lint: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench

typecheck: $(STAMP)
	$(BIN)/mypy app tests bench

pytest-sqlite: $(STAMP)
	$(BIN)/pytest -q --db=sqlite

# PostgreSQL is skipped with a reason when unreachable, and fails the run when CI=true.
pytest-postgres: $(STAMP)
	$(BIN)/pytest -q --db=postgresql --pg-url=$(PG_URL)

test: lint typecheck pytest-sqlite pytest-postgres frontend-test e2e

# 50 victims and 10 advocates for 60 s against a real server, on SQLite and PostgreSQL.
load: $(STAMP)
	$(BIN)/python -m bench.load

# A long fuzzing run of the API from its own OpenAPI document (make test runs a short one).
fuzz: $(STAMP)
	WAYMARK_FUZZ_EXAMPLES=$${WAYMARK_FUZZ_EXAMPLES:-300} $(BIN)/pytest -q -p no:logging tests/fuzz

# Benchmarks against real server processes, written to docs/benchmarks.md: a quick variant by
# default, the full sizes with FULL=1 (PostgreSQL runs too when it is reachable).
# The PWA is built first: its first-load size is one of the rows.
bench: $(STAMP) frontend
	$(BIN)/python -m bench.run $(if $(FULL),--full)

# Re-pin every dependency (needs network access to PyPI).
lock:
	uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements/app.lock
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements/dev.lock

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist tests/e2e/node_modules .mypy_cache .ruff_cache .pytest_cache
