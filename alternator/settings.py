"""The settings that may change while the server runs.

:class:`Settings` starts as a copy of the frozen :class:`~alternator.config.Config`'s startup
values and is kept on the server state; request handling reads it on every request, so a
change (through the live configuration table) applies to the next request. Each setting is
known by its ScyllaDB name too (:data:`SCYLLA_NAMES`), and :func:`change` parses and checks a
new value given as text, as a configuration table would hold it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alternator.config import Config

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(slots=True)
class Settings:
    # Responses of at least this many bytes are compressed for clients that accept it.
    response_compression_threshold: int = 4096
    # zlib level of gzip and deflate responses, 1 (fastest) to 9 (smallest); 0: never compress.
    response_compression_level: int = 6
    # Seconds an operation may take before it is answered InternalServerError; 0: no limit.
    request_timeout: float = 0.0
    # DynamoDB requests one process serves at once; more get ThrottlingException. 0: no limit.
    max_concurrent_requests: int = 0
    # One JSON line per request on the ``alternator.access`` logger.
    access_log: bool = False
    # When not enforcing authorization: check it anyway and log what would be refused.
    warn_authorization: bool = False
    # The level of the server's logs (Python logging's level names).
    log_level: str = "INFO"

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        return cls(
            response_compression_threshold=config.response_compression_threshold,
            response_compression_level=config.response_compression_level,
            request_timeout=config.request_timeout,
            max_concurrent_requests=config.max_concurrent_requests,
            access_log=config.access_log,
            warn_authorization=config.warn_authorization,
            log_level=config.log_level.upper(),
        )


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _level(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 9:
        raise ValueError("must be between 0 and 9")
    return value


def _milliseconds(text: str) -> float:
    return _count(text) / 1000.0


def _log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
    logging.getLogger().setLevel(level)  # the change takes effect here
    return level


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise ValueError("must be true or false")


# ScyllaDB's configuration name -> (Settings field, parser of a new value given as text).
SCYLLA_NAMES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "alternator_response_compression_threshold_in_bytes":
        ("response_compression_threshold", _count),
    "alternator_response_gzip_compression_level": ("response_compression_level", _level),
    "alternator_timeout_in_ms": ("request_timeout", _milliseconds),
    "max_concurrent_requests_per_shard": ("max_concurrent_requests", _count),
    "alternator_access_log": ("access_log", _boolean),
    "alternator_warn_authorization": ("warn_authorization", _boolean),
    "log_level": ("log_level", _log_level),
}


def change(settings: Settings, name: str, text: str) -> None:
    """Set the setting of ScyllaDB name ``name`` from ``text``; ValueError (with the reason)
    if the name is unknown or the value invalid, leaving ``settings`` as it was."""
    if name not in SCYLLA_NAMES:
        raise ValueError(f"unknown setting {name!r}")
    field, parse = SCYLLA_NAMES[name]
    try:
        value = parse(text.strip())
    except ValueError as exc:
        raise ValueError(f"invalid value {text!r} for {name}: {exc}") from None
    setattr(settings, field, value)


def current(settings: Settings, name: str) -> str:
    """The value of setting ``name`` as text, in the units of its ScyllaDB name."""
    field, _ = SCYLLA_NAMES[name]
    value = getattr(settings, field)
    if name == "alternator_timeout_in_ms":
        return str(round(value * 1000))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
