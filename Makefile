# The two commands a newcomer needs:
#   make run    start the server on the embedded SQLite backend (http://127.0.0.1:8000)
#   make test   run the whole test suite against SQLite and a real Cassandra 5.0 it starts
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
HTTPS_PORT ?= 8043
DB ?= alternator.db

.PHONY: run test lint unit cassandra-start cassandra-stop bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/alternator serve --backend sqlite --sqlite-path $(DB) --alternator-port $(PORT) --alternator-https-port $(HTTPS_PORT)

test: $(STAMP)
	bash scripts/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check alternator tests
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

# Throughput/latency against the direct driver, DynamoDB Local and moto (docs/performance.md).
# Runs its own Cassandra node (.cassandra/bench, ports 19042/17000) beside the tests' one.
bench: $(STAMP)
	$(PY) -c 'import moto, uvloop' 2>/dev/null || $(PY) -m pip install -q -e '.[test,bench]'
	$(PY) -m bench

cassandra-start:
	bash scripts/cassandra.sh start
	$(PY) scripts/wait_cassandra.py

cassandra-stop:
	bash scripts/cassandra.sh stop

clean:
	rm -rf $(VENV) .cassandra .sdk-cache .pytest_cache .mypy_cache .ruff_cache
