"""Client faults in the log: escaped, and at a bounded rate.

A client can make the server log as often as it sends requests; a log line must therefore never
carry raw client bytes (they are escaped here) and repeated faults are summarised instead of
written one by one (tests/test_headers.py::test_client_faults_are_rate_limited_in_the_log).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

LOG_LIMIT = 200  # characters of client text a log line shows


def printable(text: str, limit: int | None = LOG_LIMIT) -> str:
    """``text`` with invalid UTF-8 (surrogate escapes) and control characters backslashed."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    return text


def json_safe(text: str) -> str:
    """``text`` encodable as UTF-8: bytes that were not valid UTF-8 shown as ``\\xNN``."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


class RateLimitedLog:
    """At most ``burst`` lines per ``interval`` seconds; then one line counting the rest."""

    def __init__(self, logger: logging.Logger, burst: int = 10, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._logger = logger
        self._burst = burst
        self._interval = interval
        self._clock = clock
        self._window = clock()
        self._written = 0
        self.suppressed = 0

    def log(self, level: int, message: str, *args: object) -> None:
        now = self._clock()
        if now - self._window >= self._interval:
            if self.suppressed:
                self._logger.log(level, "%d more client faults like these in the last %.0f s",
                                 self.suppressed, now - self._window)
            self._window = now
            self._written = 0
            self.suppressed = 0
        if self._written < self._burst:
            self._written += 1
            self._logger.log(level, message, *args)
        else:
            self.suppressed += 1
