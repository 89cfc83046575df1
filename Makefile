# esd-containers: the two commands the README starts with are `make validate` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# The analyser throughput benchmark's generated log: short enough for a 2-core CI run.
export ESDC_PERF_LOG_MB ?= 64

.PHONY: setup setup-system setup-python setup-node validate pipeline test lint unit format definitions

setup: setup-system setup-python setup-node

# Debian packages of the local site (Open MPI, UCX, libfabric, PMIx, MPICH, Slurm+munge,
# Charliecloud, debootstrap, squashfs-tools, docker-registry, openssh-server). Idempotent.
setup-system:
	bash scripts/setup-local.sh

setup-python: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,site]'
	touch $@

validate: setup
	$(VENV)/bin/esdc validate --site local

# gitlab-ci-local (npm, pinned in package-lock.json) runs .gitlab-ci.yml on this machine.
setup-node: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The GitLab pipeline end to end against the local site: generate, build, push, validate, publish.
pipeline: setup
	bash scripts/pipeline-local.sh

lint: setup-python
	$(VENV)/bin/ruff check builder tests
	$(VENV)/bin/ruff format --check builder tests
	$(VENV)/bin/mypy

format: setup-python
	$(VENV)/bin/ruff format builder tests
	$(VENV)/bin/ruff check --fix builder tests

unit: setup-python
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test: setup lint
	$(PY) -m pytest $(PYTEST_ARGS)

# Re-render the committed definitions/ after changing environments, sites or templates.
definitions: setup-python
	$(PY) -m builder.generate.refresh
