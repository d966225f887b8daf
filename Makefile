# mlops-bot: `make run` starts the local stack, `make test` runs every test. Both set up .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: run test lint format typecheck unit integration e2e build validate bench clean sdk

$(STAMP): pyproject.toml sdk/python/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet -e 'sdk/python[websocket]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/mlops-bot run-local

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) lint
	$(BIN)/pytest -n 2 --dist loadfile

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e

# Both SDKs and the documents' samples: the Python SDK (unit, wheel, local stack), the JS SDK
# (npm ci, tsc, node --test against a local stack) and every README/docs sample. `make test` runs them too.
sdk: $(STAMP)
	$(BIN)/pytest tests/unit/test_sdk_client.py tests/integration/test_sdk_distribution.py \
		tests/e2e/test_sdk.py tests/e2e/test_sdk_js.py tests/e2e/test_doc_samples.py

validate: $(STAMP)
	$(BIN)/sam validate --lint
	$(BIN)/cfn-lint template.yaml

build: validate
	$(BIN)/sam build

bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
