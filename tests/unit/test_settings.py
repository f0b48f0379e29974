"""Run-time settings (alternator/settings.py): built from Config, changed by ScyllaDB name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from alternator.config import Config
from alternator.settings import SCYLLA_NAMES, Settings, change, current


def test_from_config_copies_the_startup_values() -> None:
    config = Config(response_compression_threshold=10, response_compression_level=1,
                    request_timeout=2.5, max_concurrent_requests=7, access_log=True)
    settings = Settings.from_config(config)
    assert settings == Settings(10, 1, 2.5, 7, True)
    settings.max_concurrent_requests = 8  # mutable; the Config stays as it started
    assert config.max_concurrent_requests == 7


def test_change_by_scylla_name(restore_log_level: None) -> None:
    settings = Settings()
    change(settings, "alternator_timeout_in_ms", "1500")
    change(settings, "alternator_response_gzip_compression_level", "0")
    change(settings, "max_concurrent_requests_per_shard", "64")
    change(settings, "alternator_response_compression_threshold_in_bytes", "1")
    change(settings, "alternator_access_log", "true")
    assert settings == Settings(1, 0, 1.5, 64, True)
    assert current(settings, "alternator_timeout_in_ms") == "1500"
    assert current(settings, "alternator_access_log") == "true"
    change(settings, "alternator_warn_authorization", "on")
    change(settings, "log_level", "debug")
    assert {current(settings, name) for name in SCYLLA_NAMES} == {"1", "0", "1500", "64",
                                                                   "true", "DEBUG"}


@pytest.fixture()
def restore_log_level() -> Iterator[None]:
    import logging

    level = logging.getLogger().level
    yield
    logging.getLogger().setLevel(level)


@pytest.mark.parametrize(("name", "text"), [
    ("alternator_response_gzip_compression_level", "10"),
    ("alternator_timeout_in_ms", "-1"),
    ("max_concurrent_requests_per_shard", "many"),
    ("alternator_access_log", "maybe"),
    ("alternator_warn_authorization", "perhaps"),
    ("log_level", "LOUD"),
    ("no_such_setting", "1"),
])
def test_invalid_changes_are_refused(name: str, text: str) -> None:
    settings = Settings()
    with pytest.raises(ValueError):
        change(settings, name, text)
    assert settings == Settings()
