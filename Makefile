# qualdash: `make demo` to try it with no AWS account, `make test` for the checks CI runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
EMULATOR_PORT ?= 8001
# Fake credentials for the offline emulator: it ignores signatures, botocore just needs some.
DEMO_ENV := AWS_ENDPOINT_URL_MTURK=http://127.0.0.1:$(EMULATOR_PORT) \
	AWS_ACCESS_KEY_ID=AKIDQUALDASHDEMO AWS_SECRET_ACCESS_KEY=qualdash-demo-not-a-secret \
	AWS_PROFILE= QUALDASH_MTURK_SANDBOX=false

.PHONY: install demo test lint typecheck pytest

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

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy .

pytest: install
	$(PY) -m pytest

test: lint typecheck pytest
