# Tidings: `make run` starts the platform, `make test` runs the tests. `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

.PHONY: help install lock run status migrate worker lint format test test-fast bench bench-table bench-dedup bench-tagging bench-query bench-readers bench-reuse bench-events bench-capacity bench-ingest train-topics chaos flower clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

# The development environment: the runtime lock plus the embedded servers, test, lint and ops tools.
$(STAMP): requirements-dev.lock requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

install: $(STAMP) ## Create the virtual environment and install the locked dependencies

lock: ## Re-resolve requirements.lock (runtime, the image) and requirements-dev.lock (all extras) with hashes
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet uv==$(UV_VERSION); }
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes --no-header pyproject.toml -o requirements.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 --extra embedded --extra dev --generate-hashes --no-header \
		--constraint requirements.lock pyproject.toml -o requirements-dev.lock

run: install ## Start ingest (:8000), query (:8001), worker and beat, restarting what exits; Ctrl-C stops all
	$(BIN)/python -m devtools.run

status: install ## What `make run` is running: each process's state, pid, restarts and health
	$(BIN)/tidings status

flower: install ## Flower, Celery's monitor, on http://127.0.0.1:5555 (the broker of REDIS_URL / TIDINGS_BROKER_URL)
	$(BIN)/celery -A services.worker.app flower --address=$(or $(FLOWER_ADDRESS),127.0.0.1) --port=$(or $(FLOWER_PORT),5555)

migrate: install ## Apply the database migrations (DATABASE_URL)
	$(BIN)/alembic upgrade head

lint: install ## ruff (lint and format check) and mypy
	$(BIN)/ruff check shared services devtools tests benchmarks
	$(BIN)/ruff format --check shared services devtools tests benchmarks
	$(BIN)/mypy shared services

format: install ## Format and fix what ruff can
	$(BIN)/ruff format shared services devtools tests benchmarks
	$(BIN)/ruff check --fix shared services devtools tests benchmarks

test: install lint ## Lint, then all tests against real PostgreSQL, Redis and worker processes
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install ## Tests without the lint step
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every benchmark `make bench` runs, in order (bench-events runs bench-reuse's benchmark first). Each one that
# fails is named at the end; the table is printed whatever happened.
BENCHMARKS := bench-dedup bench-events bench-tagging bench-query bench-readers bench-capacity bench-ingest

bench: install ## Every benchmark (research corpora in ../shared/data) against its time budget, then one table of all figures
	@failed=""; for target in $(BENCHMARKS); do \
		started=$$(date +%s); status=0; \
		$(MAKE) --no-print-directory $$target || { status=$$?; failed="$$failed $$target"; }; \
		$(BIN)/python -m benchmarks.table --record $$target $$(( $$(date +%s) - started )) $$status; \
	done; \
	$(BIN)/python -m benchmarks.table; \
	if [ -n "$$failed" ]; then echo "benchmarks that failed:$$failed" >&2; exit 1; fi

bench-table: install ## The table of every benchmarks/results/*.json summary (also written to benchmarks/results/summary.md)
	$(BIN)/python -m benchmarks.table

bench-dedup: install ## Dedup precision, recall and speed against brute force and datasketch
	$(BIN)/python -m benchmarks.dedup

bench-capacity: install ## Articles per second one ingest process accepts and one worker core processes (Reuters-21578)
	$(BIN)/python -m benchmarks.capacity

bench-ingest: install ## Single POSTs from 32 clients (idle and with a busy worker), batch acceptance beside COPY of the same rows
	$(BIN)/python -m benchmarks.ingest

bench-reuse: install ## Partial reuse: recall on local rewrites of wire stories, false merges, speed, index size
	$(BIN)/python -m benchmarks.reuse

bench-events: install ## Syndicated rewrites (partial reuse) and events: benchmarks.reuse then benchmarks.events
	$(BIN)/python -m benchmarks.reuse
	$(BIN)/python -m benchmarks.events

bench-tagging: install ## Entity F1 (CoNLL-2003), topic accuracy (BBC), tagger speed
	$(BIN)/python -m benchmarks.tagging

train-topics: install ## Retrain the topic model (SIB200=dir of SIB-200 eng_14; default ../shared/data/sib200/eng_14)
	$(BIN)/python -m devtools.train_topics $(if $(SIB200),--sib $(SIB200))

bench-query: install ## Query service vs the same SQL via psycopg (ratio, 5 rounds) and p95 at 1 and 8 clients, 1M articles
	$(BIN)/python -m benchmarks.query

bench-readers: install ## The Reuters-21578 reader over the whole corpus (every document read and valid)
	$(BIN)/python -m benchmarks.readers

chaos: install ## Fault injection: kill a worker, restart Redis and PostgreSQL while ingesting
	$(BIN)/python -m pytest tests/chaos -m chaos $(PYTEST_ARGS)

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
