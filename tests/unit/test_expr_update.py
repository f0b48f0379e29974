"""apply_update: SET/REMOVE/ADD/DELETE semantics, runtime errors, purity, needs_read."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from alternator.errors import ValidationException
from alternator.expressions import (
    Binder,
    apply_update,
    check_key_update,
    returned_attributes,
    updated_paths,
)


def error(fn: Callable[..., Any], *args: Any) -> str:
    with pytest.raises(ValidationException) as info:
        fn(*args)
    return info.value.message


VALUES: dict[str, Any] = {
    ":1": {"N": "1"}, ":2": {"N": "2"}, ":m1": {"N": "-1"}, ":half": {"N": "0.5"},
    ":s": {"S": "new"}, ":l": {"L": [{"N": "9"}]}, ":e": {"L": []},
    ":ssab": {"SS": ["a", "b"]}, ":ssbc": {"SS": ["b", "c"]}, ":ssz": {"SS": ["z"]},
    ":ns": {"NS": ["1", "3"]}, ":ns1": {"NS": ["1.0"]}, ":bs": {"BS": ["AQ=="]},
    ":m": {"M": {"k": {"S": "v"}}}, ":big": {"N": "9" * 38 + "E+88"},
    ":tiny": {"N": "1E-130"},
}

OLD: dict[str, Any] = {
    "p": {"S": "key"},
    "n": {"N": "5"},
    "s": {"S": "str"},
    "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]},
    "m": {"M": {"a": {"N": "1"}, "kid": {"M": {"x": {"S": "y"}}}, "lst": {"L": [{"N": "0"}]}}},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
}


def run(text: str, item: dict[str, Any] | None = OLD) -> dict[str, Any]:
    used = {k: v for k, v in VALUES.items()
            if any(tok == k for tok in text.replace("(", " ").replace(")", " ")
                   .replace(",", " ").split())}
    update = Binder(None, used or None).update(text)
    snapshot = copy.deepcopy(item)
    out = apply_update(update, item)
    assert item == snapshot, "apply_update modified its input"
    return out


def changed(text: str, item: dict[str, Any] | None = OLD) -> dict[str, Any]:
    """The attributes that differ from OLD (None for removed ones)."""
    out = run(text, item)
    base = item or {}
    diff: dict[str, Any] = {k: v for k, v in out.items() if base.get(k) != v}
    diff.update({k: None for k in base if k not in out})
    return diff


@pytest.mark.parametrize(("text", "diff"), [
    # SET
    ("SET x = :1", {"x": {"N": "1"}}),
    ("SET n = :s", {"n": {"S": "new"}}),
    ("SET x = n", {"x": {"N": "5"}}),
    ("SET x = m.kid.x", {"x": {"S": "y"}}),
    ("SET x = l[2]", {"x": {"N": "2"}}),
    ("SET n = n + :1", {"n": {"N": "6"}}),
    ("SET n = n - :half", {"n": {"N": "4.5"}}),
    ("SET n = :1 - n", {"n": {"N": "-4"}}),
    ("SET n = n + n", {"n": {"N": "10"}}),
    ("SET n = n + :m1, x = n", {"n": {"N": "4"}, "x": {"N": "5"}}),  # values from old item
    ("SET x = if_not_exists(x, :1)", {"x": {"N": "1"}}),
    ("SET n = if_not_exists(n, :1)", {}),
    ("SET x = if_not_exists(x, n)", {"x": {"N": "5"}}),
    ("SET x = if_not_exists(x, :1) + :2", {"x": {"N": "3"}}),
    ("SET l = list_append(l, :l)", {"l": {"L": [*OLD["l"]["L"], {"N": "9"}]}}),
    ("SET l = list_append(:l, l)", {"l": {"L": [{"N": "9"}, *OLD["l"]["L"]]}}),
    ("SET x = list_append(if_not_exists(x, :e), :l)", {"x": {"L": [{"N": "9"}]}}),
    ("SET x = list_append(:l, :l)", {"x": {"L": [{"N": "9"}, {"N": "9"}]}}),
    ("SET m.a = :2", {"m": {"M": {**OLD["m"]["M"], "a": {"N": "2"}}}}),
    ("SET m.fresh = :2", {"m": {"M": {**OLD["m"]["M"], "fresh": {"N": "2"}}}}),
    ("SET m.kid.z = :s", {"m": {"M": {**OLD["m"]["M"], "kid": {"M": {"x": {"S": "y"},
                                                                  "z": {"S": "new"}}}}}}),
    ("SET m.lst[0] = :2", {"m": {"M": {**OLD["m"]["M"], "lst": {"L": [{"N": "2"}]}}}}),
    ("SET l[1] = :s", {"l": {"L": [{"N": "0"}, {"S": "new"}, {"N": "2"}, {"N": "3"}]}}),
    ("SET l[4] = :s", {"l": {"L": [*OLD["l"]["L"], {"S": "new"}]}}),
    ("SET l[100] = :s", {"l": {"L": [*OLD["l"]["L"], {"S": "new"}]}}),
    ("SET l[10] = :1, l[11] = :2", {"l": {"L": [*OLD["l"]["L"], {"N": "1"}, {"N": "2"}]}}),
    ("SET x = :m", {"x": {"M": {"k": {"S": "v"}}}}),
    # REMOVE
    ("REMOVE s", {"s": None}),
    ("REMOVE absent", {}),
    ("REMOVE s, n", {"s": None, "n": None}),
    ("REMOVE m.a", {"m": {"M": {"kid": OLD["m"]["M"]["kid"], "lst": OLD["m"]["M"]["lst"]}}}),
    ("REMOVE m.nope", {}),
    ("REMOVE m.kid.x", {"m": {"M": {**OLD["m"]["M"], "kid": {"M": {}}}}}),
    ("REMOVE l[0]", {"l": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]}}),
    ("REMOVE l[1], l[2]", {"l": {"L": [{"N": "0"}, {"N": "3"}]}}),
    ("REMOVE l[2], l[1]", {"l": {"L": [{"N": "0"}, {"N": "3"}]}}),
    ("REMOVE l[9]", {}),
    ("REMOVE absent.x", {}),
    ("SET x = :1 REMOVE s", {"x": {"N": "1"}, "s": None}),
    # ADD
    ("ADD n :1", {"n": {"N": "6"}}),
    ("ADD n :m1", {"n": {"N": "4"}}),
    ("ADD x :2", {"x": {"N": "2"}}),
    ("ADD ss :ssbc", {"ss": {"SS": ["a", "b", "c"]}}),
    ("ADD ss :ssab", {}),
    ("ADD ns :ns1", {}),
    ("ADD ns :ns", {"ns": {"NS": ["1", "2", "3"]}}),
    ("ADD x :ssz", {"x": {"SS": ["z"]}}),
    ("ADD m.a :1", {"m": {"M": {**OLD["m"]["M"], "a": {"N": "2"}}}}),
    ("ADD m.b :1", {"m": {"M": {**OLD["m"]["M"], "b": {"N": "1"}}}}),
    # DELETE
    ("DELETE ss :ssbc", {"ss": {"SS": ["a"]}}),
    ("DELETE ss :ssab", {"ss": None}),
    ("DELETE ss :ssz", {}),
    ("DELETE ns :ns1", {"ns": {"NS": ["2"]}}),
    ("DELETE absent :ssz", {}),
])
def test_apply(text: str, diff: dict[str, Any]) -> None:
    assert changed(text) == diff


def test_apply_to_missing_item() -> None:
    assert run("SET a = :1", None) == {"a": {"N": "1"}}
    assert run("ADD a :1, s :ssz", None) == {"a": {"N": "1"}, "s": {"SS": ["z"]}}
    assert run("REMOVE a DELETE s :ssz", None) == {}
    assert run("SET a = if_not_exists(a, :2)", None) == {"a": {"N": "2"}}


def test_only_changed_paths_are_copied() -> None:
    out = run("SET m.kid.z = :s")
    assert out["l"] is OLD["l"]
    assert out["m"] is not OLD["m"]
    assert out["m"]["M"]["lst"] is OLD["m"]["M"]["lst"]
    assert out["m"]["M"]["kid"] is not OLD["m"]["M"]["kid"]


@pytest.mark.parametrize(("text", "message"), [
    ("SET x = absent", "The provided expression refers to an attribute that does not exist in "
     "the item"),
    ("SET x = absent + :1", "The provided expression refers to an attribute that does not "
     "exist in the item"),
    ("SET x = list_append(absent, :l)", "The provided expression refers to an attribute that "
     "does not exist in the item"),
    ("SET x = s + :1", "An operand in the update expression has an incorrect data type"),
    ("SET x = :1 - ss", "An operand in the update expression has an incorrect data type"),
    ("SET x = list_append(n, :l)", "An operand in the update expression has an incorrect data "
     "type"),
    ("SET x = list_append(:l, m)", "An operand in the update expression has an incorrect data "
     "type"),
    ("ADD s :1", "An operand in the update expression has an incorrect data type"),
    ("ADD n :ssz", "An operand in the update expression has an incorrect data type"),
    ("ADD ss :ns", "An operand in the update expression has an incorrect data type"),
    ("DELETE ss :ns", "An operand in the update expression has an incorrect data type"),
    ("DELETE n :ssz", "An operand in the update expression has an incorrect data type"),
    ("SET absent.x = :1", "The document path provided in the update expression is invalid for "
     "update"),
    ("SET s.x = :1", "The document path provided in the update expression is invalid for "
     "update"),
    ("SET n[0] = :1", "The document path provided in the update expression is invalid for "
     "update"),
    ("SET m[0] = :1", "The document path provided in the update expression is invalid for "
     "update"),
    ("SET l.x = :1", "The document path provided in the update expression is invalid for "
     "update"),
    ("SET l[7].x = :1", "The document path provided in the update expression is invalid for "
     "update"),
    ("SET m.nope.x = :1", "The document path provided in the update expression is invalid for "
     "update"),
    ("ADD absent.x :1", "The document path provided in the update expression is invalid for "
     "update"),
    ("REMOVE s.x", "The document path provided in the update expression is invalid for "
     "update"),
    ("SET x = :big + :big", "Number overflow. Attempting to store a number with magnitude "
     "larger than supported range"),
])
def test_apply_errors(text: str, message: str) -> None:
    assert error(run, text) == message


def test_arithmetic_is_exact_to_38_digits() -> None:
    item = {"n": {"N": "1" + "0" * 36 + "1"}}
    assert run("SET n = n + :1", item)["n"] == {"N": "1" + "0" * 36 + "2"}
    assert run("SET n = n - :half", {"n": {"N": "0.5"}})["n"] == {"N": "0"}


def test_arithmetic_needing_a_39th_digit_is_refused() -> None:
    # 10^37 + 1 + 0.5 needs 39 significant digits: DynamoDB refuses it rather than round.
    item = {"n": {"N": "1" + "0" * 36 + "1"}}
    overflow = ("Number overflow. Attempting to store a number with magnitude larger than "
                "supported range")
    assert error(lambda t: run(t, item), "SET n = n + :half") == overflow
    assert error(lambda t: run(t, item), "ADD n :half") == overflow


@pytest.mark.parametrize(("text", "expected"), [
    ("SET a = :1", False),
    ("SET a = :1, b = :s", False),
    ("REMOVE a", False),
    ("SET a = :1 REMOVE b", False),
    ("SET a = list_append(:l, :l)", False),
    ("SET a = b", True),
    ("SET a = :1 + b", True),
    ("SET a = if_not_exists(a, :1)", True),
    ("SET a = list_append(a, :l)", True),
    ("SET a.b = :1", True),
    ("SET a[0] = :1", True),
    ("REMOVE a.b", True),
    ("REMOVE a[1]", True),
    ("ADD a :1", True),
    ("DELETE a :ssz", True),
])
def test_needs_read(text: str, expected: bool) -> None:
    used = {k: v for k, v in VALUES.items() if k in text.replace(",", " ").replace(")", " ")
            .split()}
    assert Binder(None, used or None).update(text).needs_read is expected


def test_updated_paths_and_returned_attributes() -> None:
    update = Binder(None, {":1": {"N": "1"}}).update("SET m.a = :1, x = :1 REMOVE s ADD n :1")
    assert updated_paths(update) == (("m", "a"), ("x",), ("s",), ("n",))
    new = apply_update(update, OLD)
    assert returned_attributes(update, OLD) == {
        "m": {"M": {"a": {"N": "1"}}}, "s": {"S": "str"}, "n": {"N": "5"},
    }
    assert returned_attributes(update, new) == {
        "m": {"M": {"a": {"N": "1"}}}, "x": {"N": "1"}, "n": {"N": "6"},
    }
    assert returned_attributes(update, None) == {}


@pytest.mark.parametrize("text", ["SET p = :1", "REMOVE p", "ADD p :1", "SET p.x = :1",
                                  "SET a = :1 REMOVE s, p"])
def test_key_attributes_cannot_be_updated(text: str) -> None:
    used = {":1": {"N": "1"}} if ":1" in text else None
    update = Binder(None, used).update(text)
    assert error(check_key_update, update, ("p", "c")) == (
        "One or more parameter values were invalid: Cannot update attribute p. This attribute "
        "is part of the key"
    )


def test_non_key_updates_pass_the_key_check() -> None:
    check_key_update(Binder(None, {":1": {"N": "1"}}).update("SET a.p = :1"), ("p",))
