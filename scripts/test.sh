#!/usr/bin/env bash
# `make test`: lint, then the whole suite on both backends against a Cassandra node started here.
# The node is stopped on exit, whether the tests pass or not. CASS_NATIVE_PORT/CASS_STORAGE_PORT
# (see scripts/cassandra.sh) run it beside another checkout's node.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${VENV:-.venv}/bin/python

# docker-compose.yml is checked with the docker client's `compose config` (no engine needed).
# On a CI machine without the compose plugin, take Debian's docker-compose.
if [ "${CI:-}" = "true" ] && ! docker compose version >/dev/null 2>&1 \
        && ! command -v docker-compose >/dev/null 2>&1 \
        && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing docker-compose (Debian) for the compose file check"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) \
        >/dev/null 2>&1 || echo "   (could not install docker-compose; that check will skip)"
fi

# The client-compatibility stage (tests/test_sdk_clients.py) runs programs on Node, Go and the
# JVM; under CI it fails rather than skips a client whose toolchain is missing, so install the
# missing ones from Debian's packages first. (The SDKs themselves come from npm, the Go module
# proxy, Maven Central and PyPI, into .sdk-cache/.)
if [ "${CI:-}" = "true" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    missing=()
    { command -v node && command -v npm; } >/dev/null 2>&1 || missing+=(nodejs npm)
    command -v go >/dev/null 2>&1 || missing+=(golang-go)
    command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
    command -v mvn >/dev/null 2>&1 || missing+=(maven)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "== installing ${missing[*]} (Debian) for the client-compatibility stage"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            "${missing[@]}") >/dev/null 2>&1 || echo "   (could not install them; the stage will fail)"
    fi
fi

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
export ALTERNATOR_TEST_CASSANDRA=127.0.0.1:${CASS_NATIVE_PORT:-9042}
export ALTERNATOR_REQUIRE_CASSANDRA=1
"$PY" -m pytest "$@"
