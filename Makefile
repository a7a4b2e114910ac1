# qualdash: `make demo` to try it with no AWS account, `make test` for the checks CI runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
EMULATOR_PORT ?= 8001
# Fake credentials for the offline emulator: it ignores signatures, botocore just needs some.
DEMO_ENV := env -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_ENDPOINT_URL_MTURK=http://127.0.0.1:$(EMULATOR_PORT) \
	AWS_ACCESS_KEY_ID=AKIDQUALDASHDEMO AWS_SECRET_ACCESS_KEY=qualdash-demo-not-a-secret \
	QUALDASH_MTURK_SANDBOX=false

# The PostgreSQL and Redis of this machine (../shared/SERVICES.md), for `make test-services`.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_CACHE_URL ?= redis://127.0.0.1:6379/1
# `make bench`: milliseconds the emulator adds to every MTurk call.
LATENCY_MS ?= 20

.PHONY: install demo serve test test-services lint typecheck pytest e2e bench

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_user
	@echo "Starting the MTurk emulator on 127.0.0.1:$(EMULATOR_PORT) and qualdash on http://$(HOST):$(PORT)/"
	@$(PY) manage.py mturk_emulator --port $(EMULATOR_PORT) & emulator=$$!; \
	trap 'kill $$emulator 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

# Production (README, "Deploying"): DEBUG off, so SECRET_KEY and ALLOWED_HOSTS must be set; the
# deploy check prints what the environment leaves insecure.
serve: export DEBUG := false
serve: install
	$(PY) manage.py check --deploy
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	exec $(VENV)/bin/gunicorn --config gunicorn.conf.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy .

pytest: install
	$(PY) -m pytest

test: lint typecheck pytest

# The browser tests alone (`make test` runs them too): Debian's Chromium, /usr/bin/chromium,
# under Playwright against a live server and the emulator. They skip without Chromium, but
# fail in CI (CI=true).
e2e: install
	$(PY) -m pytest -m e2e tests/e2e

# The whole suite again on PostgreSQL and Redis (CI runs both).
test-services: install
	DATABASE_URL=$(TEST_DATABASE_URL) CACHE_URL=$(TEST_CACHE_URL) $(PY) -m pytest

# Cold walks against a plain boto3 paginator script, first rows, warm table, CSV export, on the
# emulator at LATENCY_MS a call: prints a table, writes bench/results.json (README, "Performance").
bench: install
	$(PY) -m bench.run --latency-ms $(LATENCY_MS)
