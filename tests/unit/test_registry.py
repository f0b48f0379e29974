"""The pure parts of the registry of servers (alternator/registry.py): what /localnodes lists,
and which address a server announces."""

from __future__ import annotations

import pytest

from alternator.config import Config
from alternator.registry import announced_address, is_wildcard, listing
from alternator.storage import ServerEntry

OWN = ServerEntry("dc1", "r1", "10.0.0.1", 8000, 0)
OTHERS = [
    OWN,
    ServerEntry("dc1", "r1", "10.0.0.2", 8000, 0),
    ServerEntry("dc1", "r2", "10.0.0.3", 8000, 0),
    ServerEntry("dc1", "r2", "10.0.0.3", 8001, 0),  # a second server on one address
]


def test_lists_each_address_once_sorted() -> None:
    assert listing(OTHERS[::-1], OWN, "10.0.0.1", "dc1", None) == [
        "10.0.0.1", "10.0.0.2", "10.0.0.3"]


def test_filters_by_rack() -> None:
    assert listing(OTHERS, OWN, "10.0.0.1", "dc1", "r1") == ["10.0.0.1", "10.0.0.2"]
    assert listing(OTHERS, OWN, "10.0.0.1", "dc1", "r2") == ["10.0.0.3"]
    assert listing(OTHERS, OWN, "10.0.0.1", "dc1", "nosuchrack") == []


def test_lists_itself_before_it_is_registered() -> None:
    assert listing([], OWN, "10.0.0.1", "dc1", None) == ["10.0.0.1"]
    assert listing([], OWN, "10.0.0.1", "dc1", "r1") == ["10.0.0.1"]
    assert listing([], OWN, "10.0.0.1", "dc2", None) == []


def test_lists_itself_at_the_address_reached() -> None:
    """On a wildcard address its own entry names the route guess; the answer names the
    address the request reached instead, once."""
    assert listing(OTHERS[:2], OWN, "192.168.1.5", "dc1", None) == ["10.0.0.2", "192.168.1.5"]


@pytest.mark.parametrize("address", ["0.0.0.0", "::", ""])
def test_wildcards(address: str) -> None:
    assert is_wildcard(address)


def test_announced_address() -> None:
    assert announced_address(Config(address="10.0.0.7")) == "10.0.0.7"
    assert announced_address(Config(address="10.0.0.7", advertise_address="1.2.3.4")) == \
        "1.2.3.4"
    assert announced_address(Config(address="0.0.0.0", advertise_address="1.2.3.4")) == \
        "1.2.3.4"
    assert announced_address(Config(address="0.0.0.0")) == "127.0.0.1"  # SQLite: one host
