"""`alternator role ...` on the embedded backend, and the warn-only authorization mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from alternator.config import Config

from conftest import Endpoint, ServerThread, create_table


def role(db: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "alternator", "role", "--sqlite-path",
                             str(db), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_role_commands(tmp_path: Path) -> None:
    db = tmp_path / "roles.db"
    admin_secret = role(db, "create", "admin", "--superuser", "--password", "pw")
    assert admin_secret.startswith("$2a$")
    alice_secret = role(db, "create", "alice")
    role(db, "create", "readers", "--nologin")
    role(db, "grant", "SELECT", "readers", "--table", "orders")
    role(db, "grant-role", "readers", "alice")
    role(db, "grant", "CREATE", "alice")
    listing = role(db, "list")
    assert "admin (superuser, login)" in listing
    assert "readers (no login)" in listing
    assert "alice (login) member of readers" in listing
    assert "data/alternator_orders/orders: SELECT" in listing
    assert "  data: CREATE" in listing
    assert role(db, "secret", "alice") == alice_secret
    role(db, "revoke", "SELECT", "readers", "--table", "orders")
    assert "orders" not in role(db, "list")
    role(db, "drop", "alice")
    assert "alice" not in role(db, "list")
    missing = subprocess.run([sys.executable, "-m", "alternator", "role", "--sqlite-path",
                              str(db), "drop", "alice"], capture_output=True, text=True)
    assert missing.returncode != 0


@pytest.fixture
def warn_only_server(tmp_path: Path) -> Any:
    db = tmp_path / "warn.db"
    role(db, "create", "nobody", "--password", "pw")
    secret = role(db, "secret", "nobody")
    thread = ServerThread(Config(port=0, sqlite_path=str(db), enforce_authorization=False,
                                 warn_authorization=True))
    url = thread.start()
    yield thread, url, secret
    thread.stop()


def test_warn_authorization_allows_and_counts(warn_only_server: Any) -> None:
    thread, url, secret = warn_only_server
    from alternator.server import STATE

    counters = thread.server.runner.app[STATE].counters
    denied_before = counters.authorization_warnings
    # A role without CREATE: allowed, but counted as a would-be denial; as the creator it then
    # holds the table's permissions, so its writes are not.
    client = Endpoint("sqlite", url, "nobody", secret).client()
    name = create_table(client, [("p", "HASH", "S")])
    assert counters.authorization_warnings == denied_before + 1
    client.put_item(TableName=name, Item={"p": {"S": "x"}})
    assert counters.authorization_warnings == denied_before + 1
    # A bad signature: allowed too, and counted.
    before = counters.authentication_warnings
    Endpoint("sqlite", url, "nobody", "wrong").client().list_tables()
    Endpoint("sqlite", url, "nosuchuser", "x").client().list_tables()
    assert counters.authentication_warnings == before + 2
