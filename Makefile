# Two commands set everything up on a fresh machine that has Python 3:
#   make run   — virtualenv, install, migrate, demo data, web server + worker
#   make test  — virtualenv (with test tools), lint, the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
ADDRPORT ?= 127.0.0.1:8000

.PHONY: run test setup setup-dev messages makemessages lint typecheck bench mutation clean cluster cluster-stop load-test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

.env:
	cp .env.example .env

setup: $(VENV)/.runtime .env messages

setup-dev: $(VENV)/.dev .env messages

messages: $(VENV)/.runtime
	$(PY) manage.py compile_translations

# Regenerate the catalogues from the source (needs GNU gettext; developers only).
makemessages:
	$(PY) manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=staticfiles --ignore=.cluster --no-obsolete

run: setup
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	$(PY) manage.py rundev $(ADDRPORT)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

# mypy with django-stubs; files, strictness and plugins are set in pyproject.toml ([tool.mypy]).
# Part of `test`. Apps still being typed are listed there with ignore_errors.
typecheck: $(VENV)/.dev .env
	$(VENV)/bin/mypy

test: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Benchmarks write their figures to stdout; bench/RESULTS.md and bench/*.md keep them.
bench: setup-dev
	$(PY) bench/bench_policy_engine.py
	$(PY) bench/bench_bulk_seed.py $(BENCH_ARGS)
	$(PY) bench/bench_sla_sweep.py
	$(PY) bench/bench_console_pages.py
	$(PY) bench/bench_api_list.py
	$(PY) bench/bench_http.py
	$(PY) bench/bench_dashboard.py
	$(PY) bench/bench_knowledge_search.py
	$(PY) bench/bench_backtest.py

# Mutation testing of the money and permission code (on demand, not part of `make test` or CI;
# docs/MUTATION_TESTING.md). Needs PostgreSQL: MUTATION_DATABASE_URL names a database of its own.
# One mutant at a time: the transactional tests of the selection flush tables, which would
# collide between parallel runs sharing one test database.
MUTATION_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cs_mutation
mutation: setup-dev
	rm -rf mutants
	DATABASE_URL=$(MUTATION_DATABASE_URL) $(VENV)/bin/pytest -p no:cacheprovider -q --reuse-db --create-db \
		tests/core/test_roles.py
	DEBUG=true DATABASE_URL=$(MUTATION_DATABASE_URL) $(VENV)/bin/mutmut run --max-children 1
	$(VENV)/bin/mutmut results

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache mutants

# A local cluster on this machine (docs/operations.md, "Several nodes"): nginx, two gunicorn
# nodes, PgBouncer, a PostgreSQL primary and its streaming replica, Redis, two django-q2
# clusters and an S3-compatible store, all on 127.0.0.1. Needs root (apt-get, the postgres user).
CLUSTER_TICKETS ?= 0
cluster: setup-dev
	$(PY) deploy/cluster.py start --tickets $(CLUSTER_TICKETS)

# Stops exactly what `make cluster` started; the data stays in .cluster/ for the next start.
cluster-stop:
	$(PYTHON) deploy/cluster.py stop

# The load test with faults (bench/load/): starts the cluster, runs about 12 minutes of load
# with a web node, a worker cluster, Redis and the replica failing in turn, checks the
# invariants, stops the cluster. Figures: bench/RESULTS.md.
load-test: setup-dev
	bash bench/load/on_cluster.sh
