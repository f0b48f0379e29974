"""Evaluation of conditions and projections against items (DynamoDB semantics)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from alternator.expressions import Binder, evaluate, project, project_paths


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ITEM: dict[str, Any] = {
    "s": {"S": "hello"},
    "u": {"S": "\u00e9t\u00e9"},  # 5 UTF-8 bytes
    "n": {"N": "10"},
    "neg": {"N": "-2.5"},
    "b": {"B": b64(b"\x01\x02\x03")},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "ss": {"SS": ["a", "b", "c"]},
    "ns": {"NS": ["1", "2.0"]},
    "bs": {"BS": [b64(b"\x01"), b64(b"\x02")]},
    "l": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"k": {"S": "v"}}}]},
    "m": {"M": {"a": {"N": "1"}, "b": {"L": [{"N": "7"}, {"N": "8"}]}, "c": {"M": {}}}},
    "e": {"S": ""},
}

VALUES: dict[str, Any] = {
    ":hello": {"S": "hello"}, ":he": {"S": "he"}, ":ell": {"S": "ell"}, ":z": {"S": "z"},
    ":a": {"S": "a"}, ":x": {"S": "x"}, ":v": {"S": "v"}, ":empty": {"S": ""},
    ":10": {"N": "10"}, ":ten": {"N": "10.0"}, ":9": {"N": "9"}, ":11": {"N": "11"},
    ":1": {"N": "1"}, ":2": {"N": "2"}, ":3": {"N": "3"}, ":5": {"N": "5"}, ":7": {"N": "7"},
    ":0": {"N": "0"}, ":m3": {"N": "-3"},
    ":b123": {"B": b64(b"\x01\x02\x03")}, ":b1": {"B": b64(b"\x01")}, ":b2": {"B": b64(b"\x02")},
    ":b23": {"B": b64(b"\x02\x03")}, ":b9": {"B": b64(b"\x09")},
    ":true": {"BOOL": True}, ":false": {"BOOL": False}, ":null": {"NULL": True},
    ":ss": {"SS": ["c", "b", "a"]}, ":ns": {"NS": ["2", "1"]}, ":l": {"L": [{"S": "x"}]},
    ":lfull": {"L": [{"S": "x"}, {"N": "1.0"}, {"M": {"k": {"S": "v"}}}]},
    ":m": {"M": {"k": {"S": "v"}}}, ":mapv": {"M": {"a": {"N": "1"}}},
    ":S": {"S": "S"}, ":N": {"S": "N"}, ":B": {"S": "B"}, ":BOOL": {"S": "BOOL"},
    ":NULL": {"S": "NULL"}, ":SS": {"S": "SS"}, ":NS": {"S": "NS"}, ":BS": {"S": "BS"},
    ":L": {"S": "L"}, ":M": {"S": "M"},
}


def check(text: str, item: dict[str, Any] | None = ITEM) -> bool:
    used = {k: v for k, v in VALUES.items() if k in text.split() or any(
        tok == k for tok in text.replace("(", " ").replace(")", " ").replace(",", " ").split())}
    binder = Binder(None, used or None)
    return evaluate(binder.condition(text), item)


@pytest.mark.parametrize(("text", "expected"), [
    # equality, across types
    ("s = :hello", True), ("s = :he", False), ("s <> :hello", False), ("s <> :he", True),
    ("n = :10", True), ("n = :ten", True), ("n = :9", False), ("n <> :ten", False),
    ("n = :hello", False), ("s = :10", False), ("n <> :hello", True),
    ("b = :b123", True), ("b = :b1", False), ("t = :true", True), ("t = :false", False),
    ("z = :null", True), ("ss = :ss", True), ("ns = :ns", True), ("l = :lfull", True),
    ("l = :l", False), ("m.b[0] = :7", True), ("m.a = :1", True), ("l[2] = :m", True),
    ("l[2].k = :v", True), ("e = :empty", True),
    # absent attributes: comparisons false, <> true
    ("absent = :1", False), ("absent <> :1", True), ("absent < :1", False),
    ("absent >= :1", False), ("m.nope = :1", False), ("m.nope <> :1", True),
    ("l[9] = :x", False), ("s.x = :1", False), ("s[0] = :x", False), ("m[0] = :1", False),
    ("absent = absent2", False), ("absent <> absent2", True),
    # ordering: numbers numerically, strings and binary by bytes
    ("n < :11", True), ("n < :9", False), ("n <= :ten", True), ("n > :9", True),
    ("n >= :11", False), ("neg < :m3", False), ("neg > :m3", True), ("neg < :0", True),
    ("s < :z", True), ("s > :he", True), ("s >= :hello", True), ("s < :a", False),
    ("u > :z", True),  # UTF-8 bytes: 0xC3 > 'z'
    ("b > :b1", True), ("b < :b2", True), ("b < :b23", True), ("b >= :b9", False),
    ("n < :hello", False), ("s > :1", False), ("t < m", False), ("ss > ns", False),
    ("l <= bs", False), (":1 < n", True), (":11 < n", False),
    # BETWEEN
    ("n BETWEEN :9 AND :11", True), ("n BETWEEN :10 AND :ten", True),
    ("n BETWEEN :1 AND :9", False), ("s BETWEEN :a AND :z", True),
    ("s BETWEEN :he AND :hello", True), ("s BETWEEN :1 AND :3", False),
    ("absent BETWEEN :1 AND :3", False), ("b BETWEEN :b1 AND :b2", True),
    ("size(s) BETWEEN :5 AND :7", True),
    # IN
    ("n IN (:1, :ten)", True), ("n IN (:1, :2)", False), ("s IN (:hello)", True),
    ("s IN (:10, :he)", False), ("absent IN (:1)", False), ("ss IN (:ss)", True),
    ("m.a IN (:3, :2, :1)", True),
    # attribute_exists / attribute_not_exists
    ("attribute_exists(s)", True), ("attribute_exists(absent)", False),
    ("attribute_not_exists(absent)", True), ("attribute_not_exists(s)", False),
    ("attribute_exists(m.b[1])", True), ("attribute_exists(m.b[2])", False),
    ("attribute_exists(z)", True), ("attribute_exists(e)", True),
    ("attribute_exists(s.x)", False),
    # attribute_type
    ("attribute_type(s, :S)", True), ("attribute_type(n, :N)", True),
    ("attribute_type(b, :B)", True), ("attribute_type(t, :BOOL)", True),
    ("attribute_type(z, :NULL)", True), ("attribute_type(ss, :SS)", True),
    ("attribute_type(ns, :NS)", True), ("attribute_type(bs, :BS)", True),
    ("attribute_type(l, :L)", True), ("attribute_type(m, :M)", True),
    ("attribute_type(s, :N)", False), ("attribute_type(absent, :S)", False),
    ("attribute_type(m.c, :M)", True),
    # begins_with
    ("begins_with(s, :he)", True), ("begins_with(s, :hello)", True),
    ("begins_with(s, :ell)", False), ("begins_with(s, :empty)", True),
    ("begins_with(b, :b1)", True), ("begins_with(b, :b2)", False),
    ("begins_with(n, :he)", False), ("begins_with(absent, :he)", False),
    ("begins_with(s, :b1)", False), ("begins_with(:hello, :he)", True),
    # contains
    ("contains(s, :ell)", True), ("contains(s, :z)", False), ("contains(s, :empty)", True),
    ("contains(ss, :a)", True), ("contains(ss, :z)", False), ("contains(ns, :2)", True),
    ("contains(ns, :3)", False), ("contains(ns, :hello)", False),
    ("contains(bs, :b2)", True), ("contains(bs, :b9)", False),
    ("contains(l, :x)", True), ("contains(l, :1)", True), ("contains(l, :m)", True),
    ("contains(l, :z)", False), ("contains(b, :b23)", True), ("contains(n, :1)", False),
    ("contains(absent, :a)", False), ("contains(m, :mapv)", False),
    ("contains(m.b, :7)", True),
    # size
    ("size(s) = :5", True), ("size(u) = :5", True), ("size(b) = :3", True),
    ("size(ss) = :3", True), ("size(ns) = :2", True), ("size(bs) = :2", True),
    ("size(l) = :3", True), ("size(m) = :3", True), ("size(m.c) = :0", True),
    ("size(e) = :0", True), ("size(n) = :2", False), ("size(n) <> :2", True),
    ("size(t) >= :0", False), ("size(z) = :1", False), ("size(absent) = :0", False),
    ("size(absent) <> :0", True), ("size(s) > size(ss)", True), ("size(l) < :2", False),
    # boolean structure
    ("s = :hello AND n = :10", True), ("s = :hello AND n = :9", False),
    ("s = :he OR n = :10", True), ("s = :he OR n = :9", False),
    ("NOT s = :he", True), ("NOT s = :hello", False),
    ("NOT attribute_exists(absent)", True),
    ("s = :he OR n = :10 AND t = :true", True),
    ("(s = :he OR n = :10) AND t = :false", False),
    ("NOT (s = :he OR n = :9)", True),
    ("NOT NOT s = :hello", True),
    # constants on both sides
    (":1 = :1", True), (":1 = :2", False),
])
def test_evaluate(text: str, expected: bool) -> None:
    assert check(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("attribute_not_exists(a)", True),
    ("attribute_exists(a)", False),
    ("a = :1", False),
    ("a <> :1", True),
    ("NOT a = :1", True),
    ("size(a) = :0", False),
])
def test_evaluate_without_an_item(text: str, expected: bool) -> None:
    assert check(text, None) is expected
    assert check(text, {}) is expected


def test_evaluate_through_names() -> None:
    b = Binder({"#m": "m", "#b": "b"}, {":v": {"N": "8"}})
    assert evaluate(b.condition("#m.#b[1] = :v"), ITEM)


# --- projection -------------------------------------------------------------------------------

PITEM: dict[str, Any] = {
    "a": {"M": {"b": {"N": "1"}, "c": {"N": "2"}, "d": {"M": {"e": {"S": "x"}}}}},
    "l": {"L": [{"N": "0"}, {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}, {"N": "2"}, {"N": "3"}]},
    "s": {"S": "str"},
}


@pytest.mark.parametrize(("text", "expected"), [
    ("s", {"s": {"S": "str"}}),
    ("s, absent", {"s": {"S": "str"}}),
    ("absent", {}),
    ("a.b", {"a": {"M": {"b": {"N": "1"}}}}),
    ("a.b, a.c", {"a": {"M": {"b": {"N": "1"}, "c": {"N": "2"}}}}),
    ("a.d.e", {"a": {"M": {"d": {"M": {"e": {"S": "x"}}}}}}),
    ("a.nope", {}),
    ("a.b.c", {}),
    ("s.x", {}),
    ("s[0]", {}),
    ("l[0]", {"l": {"L": [{"N": "0"}]}}),
    ("l[3], l[0]", {"l": {"L": [{"N": "0"}, {"N": "3"}]}}),
    ("l[2], l[9]", {"l": {"L": [{"N": "2"}]}}),
    ("l[1].y", {"l": {"L": [{"M": {"y": {"N": "2"}}}]}}),
    ("l[1].y, l[3]", {"l": {"L": [{"M": {"y": {"N": "2"}}}, {"N": "3"}]}}),
    ("a.b, s, l[0]", {"a": {"M": {"b": {"N": "1"}}}, "s": {"S": "str"},
                      "l": {"L": [{"N": "0"}]}}),
])
def test_project(text: str, expected: dict[str, Any]) -> None:
    assert project(Binder(None, None).projection(text), PITEM) == expected


def test_project_shares_values_and_leaves_item_alone() -> None:
    before = repr(PITEM)
    out = project(Binder(None, None).projection("a, l[1]"), PITEM)
    assert out["a"] is PITEM["a"]
    assert repr(PITEM) == before


def test_project_paths_merges_overlapping_paths() -> None:
    # ReturnValues may ask for overlapping paths (no overlap check there): whole value wins.
    assert project_paths(PITEM, [("a", "b"), ("a",)]) == {"a": PITEM["a"]}
    assert project_paths(PITEM, [("a",), ("a", "b")]) == {"a": PITEM["a"]}
