"""Secrets stay secret: files only their owner reads, the generated secret shown once."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alternator.roles import RoleAdmin
from alternator.storage.sqlite import SQLiteStorage
from alternator.tls import ensure_serving_files

from test_processes import free_port, wait_listening


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_file_is_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "roles.db"
        admin = RoleAdmin(str(path))
        admin.create("someone", "pw", rounds=4)
        admin.close()
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    for companion in (tmp_path / "roles.db-wal", tmp_path / "roles.db-shm"):
        if companion.exists():
            assert mode(companion) == 0o600


def test_a_readable_database_file_is_warned_about(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "shared.db"
    path.touch(0o644)
    path.chmod(0o644)
    storage = SQLiteStorage(str(path))
    storage.connect()
    storage.db.close()
    assert any("chmod 600" in r.getMessage() for r in caplog.records)


def test_generated_keys_are_private(tmp_path: Path) -> None:
    files = ensure_serving_files(str(tmp_path / "state"), ["127.0.0.1"])
    assert mode(files.key) == 0o600
    assert mode(tmp_path / "state" / "serving-ca.key") == 0o600


def test_writes_are_durable_by_default(tmp_path: Path) -> None:
    for setting, level in ((None, 2), ("normal", 1), ("full", 2)):
        storage = (SQLiteStorage(str(tmp_path / "d.db")) if setting is None
                   else SQLiteStorage(str(tmp_path / "d.db"), setting))
        storage.connect()
        assert storage.db.execute("PRAGMA synchronous").fetchone()[0] == level
        storage.db.close()


def start_and_stop(path: Path, log: Path) -> str:
    port = free_port()
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "alternator", "serve", "--alternator-port", str(port),
             "--alternator-https-port", "none", "--sqlite-path", str(path)],
            stdout=subprocess.PIPE, stderr=err)
    try:
        wait_listening(proc, port, log)
        time.sleep(0.2)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    return out.decode()


def test_generated_secret_is_printed_only_when_created(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    first = start_and_stop(path, tmp_path / "first.log")
    admin = RoleAdmin(str(path))
    role = admin.get("alternator")
    admin.close()
    assert role is not None and role.salted_hash
    assert role.salted_hash in first
    second = start_and_stop(path, tmp_path / "second.log")
    assert role.salted_hash not in second
    assert "alternator role --sqlite-path" in second and "secret alternator" in second
