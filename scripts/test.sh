#!/usr/bin/env bash
# `make test`: lint, then the whole suite on both backends against a Cassandra node started here.
# The node is stopped on exit, whether the tests pass or not.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${VENV:-.venv}/bin/python

echo "== lint (ruff, mypy --strict)"
"${VENV:-.venv}/bin/ruff" check alternator tests
"${VENV:-.venv}/bin/mypy"

echo "== starting Cassandra"
trap 'bash scripts/cassandra.sh stop' EXIT
bash scripts/cassandra.sh start
if ! "$PY" scripts/wait_cassandra.py; then
    echo "Cassandra did not come up; the tail of its logs:" >&2
    bash scripts/cassandra.sh logs >&2 || true
    exit 1
fi

echo "== tests"
export ALTERNATOR_TEST_CASSANDRA=127.0.0.1:9042
export ALTERNATOR_REQUIRE_CASSANDRA=1
"$PY" -m pytest "$@"
