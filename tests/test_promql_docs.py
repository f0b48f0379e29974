"""The PromQL of docs/monitoring.md parses the way Prometheus and Grafana parse it.

Each ```promql block of the page holds one or more queries: a line that starts at column 0
begins a query, an indented line continues the one above, and a blank line ends it. Every query
goes through Prometheus's own grammar, ``@prometheus-io/lezer-promql`` (the parser of the
Prometheus UI), run by tests/promql/check.mjs; a query whose tree has an error node fails. The
metrics a query selects must be the page's: a name in a row of its metric tables, that name plus
``_bucket``, ``_sum`` or ``_count`` when the row is a histogram, or the ``scylla_alternator_table_``
name of a ScyllaDB metric, which the page says exists per table.

The grammar comes from npm, pinned by tests/promql/package-lock.json, and is installed into
``.sdk-cache/promql/`` the way the client-compatibility stage installs the JavaScript SDK
(tests/test_sdk_clients.py): without node and npm the test skips, except under ``CI=true`` (or
``ALTERNATOR_REQUIRE_SDKS=1``), where it fails.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from test_sdk_clients import CACHE, ROOT, _cached, _digest, _required, _run

SOURCE = ROOT / "tests" / "promql"
TARGET = CACHE / "promql"
DOC = ROOT / "docs" / "monitoring.md"
RUN_TIMEOUT = 120

BLOCK = re.compile(r"^```promql\n(.*?)^```$", re.MULTILINE | re.DOTALL)
ROW = re.compile(r"^\| `([a-zA-Z_:][a-zA-Z0-9_:]*)`( \(histogram\))? \|", re.MULTILINE)
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# docs/monitoring.md: every ScyllaDB metric but this one also exists per table.
NOT_PER_TABLE = {"scylla_alternator_unsupported_operations"}

Checker = Callable[[list[str]], list[dict[str, Any]]]


def doc_queries(text: str) -> list[str]:
    """The queries of the page's promql blocks, each with its continuation lines."""
    queries: list[str] = []
    for block in BLOCK.findall(text):
        current: list[str] = []
        for line in block.splitlines():
            if not line.strip() or not line[0].isspace():
                if current:
                    queries.append("\n".join(current))
                current = [line] if line.strip() else []
            else:
                assert current, f"an indented line begins a promql block: {line!r}"
                current.append(line)
        if current:
            queries.append("\n".join(current))
    return queries


def doc_metrics(text: str) -> set[str]:
    """Every series name the page's metric tables define."""
    names: set[str] = set()
    for name, histogram in ROW.findall(text):
        family = {name, *(name + suffix for suffix in HISTOGRAM_SUFFIXES if histogram)}
        names |= family
        if name.startswith("scylla_alternator_") and name not in NOT_PER_TABLE:
            prefix = "scylla_alternator_table_"
            names |= {prefix + n.removeprefix("scylla_alternator_") for n in family}
    return names


@pytest.fixture(scope="module")
def check() -> Checker:
    """A function that parses queries with check.mjs: one result per query."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        if _required():
            pytest.fail("node and npm are needed to check the PromQL of docs/monitoring.md")
        pytest.skip("node and npm are not installed")
    lock = SOURCE / "package-lock.json"

    def install() -> str | None:
        TARGET.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(SOURCE / name, TARGET / name)
        return _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], TARGET,
                    {"npm_config_cache": str(CACHE / "npm")})

    error = _cached("promql", _digest(SOURCE / "package.json", lock), TARGET / "node_modules",
                    install)
    if error is not None:
        pytest.fail(error)
    # ES modules resolve their imports from the script's directory (NODE_PATH does not apply),
    # so the script runs from beside its node_modules.
    script = TARGET / "check.mjs"
    source = (SOURCE / "check.mjs").read_bytes()
    if not script.exists() or script.read_bytes() != source:
        script.write_bytes(source)

    def run(queries: list[str]) -> list[dict[str, Any]]:
        result = subprocess.run(["node", str(script)], input=json.dumps(queries),
                                capture_output=True, text=True, timeout=RUN_TIMEOUT)
        assert result.returncode == 0 and not result.stderr, result.stderr
        results: list[dict[str, Any]] = json.loads(result.stdout)
        assert [r["query"] for r in results] == queries
        return results

    return run


def test_doc_queries_parse_and_select_documented_metrics(check: Checker) -> None:
    text = DOC.read_text()
    queries = doc_queries(text)
    assert len(queries) >= len(BLOCK.findall(text)) >= 1
    results = check(queries)
    invalid = [(r["query"], r["errors"]) for r in results if r["errors"]]
    assert not invalid, f"docs/monitoring.md has PromQL that does not parse: {invalid}"
    documented = doc_metrics(text)
    undocumented = {(name, r["query"]) for r in results for name in r["metrics"]
                    if name not in documented}
    assert not undocumented, f"docs/monitoring.md queries metrics it does not list: {undocumented}"
    assert all(r["metrics"] for r in results)


def test_checker_finds_broken_queries(check: Checker) -> None:
    """The check can fail: the grammar reports these as errors, and finds the metric names."""
    broken = ["sum by (op (rate(x[5m]))", "rate(x[5m]", "sum(rate(x[5m])) /", "x{op=}"]
    assert all(r["errors"] for r in check(broken))
    good = check(['sum by (op) (rate(a_total[5m])) / on(op) b{op="GetItem"}',
                  '{__name__="c"} + {"d.e", le="1"} offset 5m'])
    assert [(r["errors"], r["metrics"]) for r in good] == [([], ["a_total", "b"]),
                                                           ([], ["c", "d.e"])]


def test_doc_parsing_rules() -> None:
    """The splitting into queries and the reading of the tables, on a page of the same shape."""
    page = ("| `m_a` | `op` | x |\n| `m_h` (histogram) | | y |\n| `--flag` | z |\n"
            "| `scylla_alternator_x` | | w |\n| `scylla_alternator_unsupported_operations` | |\n"
            "```promql\nsum(m_a)\n  / sum(m_h_sum)\nm_a\n\nm_h_count\n```\n```sh\nm_b\n```\n")
    assert doc_queries(page) == ["sum(m_a)\n  / sum(m_h_sum)", "m_a", "m_h_count"]
    assert doc_metrics(page) == {
        "m_a", "m_h", "m_h_bucket", "m_h_sum", "m_h_count", "scylla_alternator_x",
        "scylla_alternator_table_x", "scylla_alternator_unsupported_operations"}
