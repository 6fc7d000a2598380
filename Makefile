# Everyday commands. `make run` starts the back office, `make test` runs the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The newest Python >= 3.12 found on PATH or under pyenv.
PYTHON ?= $(shell for c in python3.14 $$HOME/.pyenv/versions/3.14*/bin/python3 python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3 python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3 python3; do \
	if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then command -v $$c; break; fi; done)
VENV := .venv
PY := $(VENV)/bin/python

# `make test` talks to real servers; these are the defaults on a developer machine.
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/inventory)
TEST_REDIS_URL ?= $(or $(REDIS_URL),redis://127.0.0.1:6379/0)
# Tests run with DEBUG off, as production does, over plain HTTP.
TEST_ENV = DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DEBUG=0 \
	SECRET_KEY=test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz \
	SECURE_SSL_REDIRECT=0 CACHE_KEY_PREFIX=test
# The second pass of `make test`, on SQLite: imports and exports, the
# dashboard, the API, purchasing, API clients and the change feed, seeding
# and the rollup triggers (tests marked postgresql_only are deselected). The XLSX
# writer's tests read no database (a million-row file: ~50 s): they run once.
SQLITE_TESTS = dataio/tests dashboard/tests catalog/tests/test_api_products.py \
	movements/tests/test_api_movements.py project/tests/test_api_auth.py \
	project/tests/test_api_parsers.py project/tests/test_api_permissions.py \
	purchasing/tests integrations/tests movements/tests/test_seed_demo_streaming.py \
	movements/tests/test_rollups.py movements/tests/test_rollup_totals.py \
	--ignore=dataio/tests/test_xlsx_writer.py
SQLITE_TEST_ENV = DEBUG=0 SECRET_KEY=test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz \
	SECURE_SSL_REDIRECT=0

.PHONY: help run test e2e lint format bench clean

help:
	@echo "make run    start the back office (web, worker, beat) on http://127.0.0.1:8000/admin/"
	@echo "make test   lint, format check and the whole test suite (PostgreSQL + Redis)"
	@echo "make e2e    the production topology natively (nginx, gunicorn, worker, beat, flower)"
	@echo "make bench  performance benchmarks against their baselines (BENCH=seed|import|export|dashboard|api|xlsx|admin_lists)"
	@echo "           BENCH=scale: issue 13's table at 1M products / 10M movements (own databases, minutes)"
	@echo "make format apply ruff's formatting and fixes"

$(PY):
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.12 or newer is needed; none was found." >&2; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	./scripts/run.sh

test: $(VENV)/.installed-dev
	$(TEST_ENV) $(PY) scripts/check_services.py
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet
	$(TEST_ENV) $(VENV)/bin/pytest
# Again on the embedded default, as `make run` without DATABASE_URL and
# REDIS_URL (SQLite, file cache, filesystem broker): the tests of the code
# that branches on the database. In a VAR_DIR of its own, never the var/ of
# a running `make run`.
	var_dir=$$(mktemp -d) && trap 'rm -rf "$$var_dir"' EXIT && \
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL VAR_DIR="$$var_dir" $(SQLITE_TEST_ENV) \
		$(VENV)/bin/pytest -m "not postgresql_only" $(SQLITE_TESTS)

# The production topology natively on loopback (nginx, gunicorn, worker, beat,
# Flower, PostgreSQL, its own Redis), checked through nginx; torn down after.
e2e: $(VENV)/.installed-dev
	$(TEST_ENV) $(PY) scripts/check_services.py
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { echo "make e2e needs nginx (apt-get install nginx)." >&2; exit 1; }
	$(PY) scripts/e2e.py

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Benchmarks use their own database: they empty and refill it.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/inventory_bench
BENCH_ENV = DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DEBUG=0 \
	SECRET_KEY=bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz \
	SECURE_SSL_REDIRECT=0 CACHE_KEY_PREFIX=bench \
	BENCH_SCALE_DATABASE=$(SCALE_DATABASE) BENCH_SCALE_SMALL_DATABASE=$(SCALE_SMALL_DATABASE)
BENCH ?= all
# BENCH=scale seeds these once (same server as BENCH_DATABASE_URL) and reuses them.
SCALE_DATABASE ?= inventory_scale
SCALE_SMALL_DATABASE ?= inventory_scale_small

bench: $(VENV)/.installed-dev
	$(BENCH_ENV) $(PY) scripts/check_services.py
	$(BENCH_ENV) $(PY) scripts/ensure_database.py
	$(BENCH_ENV) $(PY) manage.py migrate --noinput -v0
	$(BENCH_ENV) $(PY) -m benchmarks $(BENCH)

clean:
	rm -rf $(VENV) var staticfiles site .pytest_cache .ruff_cache
