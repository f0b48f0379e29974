"""The HTTP options of ``alternator serve`` (alternator/__main__.py) -> Config, and their
environment variables; docs/configuration.md lists each."""

from __future__ import annotations

from pathlib import Path

import pytest

from alternator.__main__ import build_parser, config_from_args
from alternator.config import Config

OPTIONS = ("--alternator-response-compression-threshold-in-bytes",
           "--alternator-response-gzip-compression-level", "--alternator-timeout-in-ms",
           "--max-concurrent-requests-per-shard", "--alternator-access-log")


def parsed(*argv: str) -> Config:
    return config_from_args(build_parser().parse_args(["serve", *argv]))


def test_defaults() -> None:
    config = parsed()
    assert (config.response_compression_threshold, config.response_compression_level,
            config.request_timeout, config.max_concurrent_requests, config.access_log) == (
        4096, 6, 0.0, 0, False)


def test_flags() -> None:
    config = parsed("--alternator-response-compression-threshold-in-bytes", "1",
                    "--alternator-response-gzip-compression-level", "0",
                    "--alternator-timeout-in-ms", "2500",
                    "--max-concurrent-requests-per-shard", "100",
                    "--alternator-access-log", "true")
    assert (config.response_compression_threshold, config.response_compression_level,
            config.request_timeout, config.max_concurrent_requests, config.access_log) == (
        1, 0, 2.5, 100, True)


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALTERNATOR_MAX_CONCURRENT_REQUESTS_PER_SHARD", "7")
    monkeypatch.setenv("ALTERNATOR_TIMEOUT_IN_MS", "100")
    config = parsed()
    assert config.max_concurrent_requests == 7 and config.request_timeout == 0.1


@pytest.mark.parametrize("argv", [
    ("--alternator-response-gzip-compression-level", "10"),
    ("--alternator-timeout-in-ms", "-1"),
    ("--max-concurrent-requests-per-shard", "-5"),
    ("--alternator-access-log", "sometimes"),
])
def test_invalid_values_stop_the_server(argv: tuple[str, str]) -> None:
    with pytest.raises(SystemExit):
        parsed(*argv)


def test_options_are_documented() -> None:
    docs = Path(__file__).parent.parent.parent / "docs"
    for option in OPTIONS:
        assert option in (docs / "configuration.md").read_text(), option
        assert option in (docs / "http.md").read_text(), option
