# Leadflow: every task a developer or CI runs. `make dev` and `make test` set up from nothing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

# A real python3.13: on PATH (and working: pyenv's shim fails unless 3.13 is selected),
# else the newest one under pyenv's versions.
PYTHON313 := $(shell \
	if python3.13 -c 'import sys' >/dev/null 2>&1; then command -v python3.13; \
	else ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13.*/bin/python3.13 2>/dev/null | sort -V | tail -n1; fi)

.PHONY: help dev test lint check-template build unit integration e2e bench bench-check clean browser

help:
	@echo "make dev    run Leadflow locally on an embedded AWS (moto server; no Docker, no account)"
	@echo "make test   lint, validate and build the template, run every test"
	@echo "make bench  print the benchmark figures recorded in docs/BENCHMARKS.md"
	@echo "make bench-check  fail if a function's cold start is over 1.3x the boto3 + Powertools baseline"

$(STAMP): pyproject.toml layers/core/requirements.txt
	@if [ -z "$(PYTHON313)" ]; then \
		echo "Leadflow needs Python 3.13 (the Lambda runtime it deploys to)."; \
		echo "Install it, for example 'pyenv install 3.13' or your OS package 'python3.13', then run make again."; \
		exit 1; fi
	@test -x $(BIN)/python3.13 || $(PYTHON313) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

dev: $(STAMP)
	$(BIN)/leadflow dev $(if $(PORT),--port $(PORT),)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# checkov pins boto3 and packaging below what aws-sam-cli needs, so it lives in its own venv
# inside .venv, pinned here (a new version gets a new stamp, so a bump reinstalls).
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
EXPANDED := .aws-sam/template.expanded.json

$(CHECKOV_STAMP): $(STAMP)
	@test -x $(CHECKOV_VENV)/bin/python || $(BIN)/python -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	@touch $@

# sam's own lint on the source, then checkov on what CloudFormation will really get: the
# samtranslator expansion (generated roles, mappings, schedules), skips justified in .checkov.yaml.
check-template: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/sam validate --lint --template template.yaml
	@mkdir -p $(dir $(EXPANDED))
	$(BIN)/python -c 'import json, sys; from pathlib import Path; from leadflow_local.template import load_template; json.dump(load_template(Path("template.yaml")).document, sys.stdout, indent=1)' >$(EXPANDED)
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml --file $(EXPANDED)

build: $(STAMP)
	$(BIN)/sam build --template template.yaml --parallel >.sam-build.log 2>&1 || (cat .sam-build.log; exit 1)
	@tail -n 3 .sam-build.log

browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser test"; \
		if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); \
		else echo "chromium missing and not root: install it (sudo apt-get install chromium), or the browser test fails"; fi; }
	@command -v node >/dev/null 2>&1 || { \
		echo "Installing node for the snippet's tests"; \
		if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null); \
		else echo "node missing and not root: install it (sudo apt-get install nodejs), or the snippet's tests fail"; fi; }

test: lint check-template build browser
	$(BIN)/python -m pytest -n 2 --dist loadfile

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e

bench: $(STAMP)
	$(BIN)/python -m bench

# The cold-start regression guard: exits non-zero when a function imports slower or peaks higher
# than 1.3x the boto3 + Powertools baseline (a benchmark, not a test: timing is never tested).
bench-check: $(STAMP)
	$(BIN)/python -m bench.cold_start --check

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache .sam-build.log
