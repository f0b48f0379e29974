"""AttributeValue semantics: validation, numbers, comparison, sizes.

Items stay in DynamoDB's JSON shape (``{"N": "1.5"}``); this module holds the plain functions
that give those values their meaning. Numbers are :class:`decimal.Decimal` in a 38-digit context,
as DynamoDB's are.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from alternator.errors import SerializationException, ValidationException

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

SCALAR_TYPES = frozenset({"S", "N", "B"})
SET_TYPES = frozenset({"SS", "NS", "BS"})
ALL_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})

# DynamoDB keeps 38 significant digits; exponents are checked separately below, so the context
# itself allows a wider range than DynamoDB does.
NUMBER_CONTEXT = decimal.Context(
    prec=38, rounding=decimal.ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero],
)
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# Integers already in canonical form (most numbers in practice) skip Decimal entirely, and so
# do fractions in canonical form (no exponent, no superfluous zeros) short enough that they
# can hold neither more than 38 significant digits nor an out-of-range magnitude: the text of
# a float (an embedding's element) usually is one.
_CANONICAL_INTEGER = re.compile(r"0|-?[1-9][0-9]{0,37}")
_CANONICAL_FRACTION = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]*[1-9]")
_SHORT_FRACTION = 40  # characters: at most 38 digits besides "-" and "."


def _canonical(text: str) -> bool:
    """Whether ``text`` is a number's canonical form, in range, known without Decimal."""
    if len(text) <= _SHORT_FRACTION and _CANONICAL_FRACTION.fullmatch(text):
        return True
    return _CANONICAL_INTEGER.fullmatch(text) is not None
# DynamoDB's range: 1E-130 <= |n| < 1E+126.
_MAX_EXPONENT = 125
_MIN_EXPONENT = -130
MAX_NESTING_DEPTH = 32

_SET_NAMES = {"SS": "string", "NS": "number", "BS": "binary"}


# --- numbers ----------------------------------------------------------------------------------


def parse_number(text: Any) -> Decimal:
    """Parse a DynamoDB number string, enforcing DynamoDB's precision and range."""
    if not isinstance(text, str):
        # A JSON number where DynamoDB wants the number's text is a serialization error
        # (tests/test_condition_exactness.py::test_a_json_number_is_a_serialization_error).
        raise SerializationException("NUMBER_VALUE cannot be converted to String")
    if not _NUMBER_RE.fullmatch(text):
        raise ValidationException(
            "The parameter cannot be converted to a numeric value: " + text
        )
    value = Decimal(text)
    check_number(value)
    return value


def check_number(value: Decimal) -> Decimal:
    """Raise DynamoDB's error when ``value`` is outside what a Number can hold."""
    if value.is_zero():
        return value
    _, digits, exponent = _significant(value)
    assert isinstance(exponent, int)
    if len(digits) > 38:
        raise ValidationException(
            "Attempting to store more than 38 significant digits in a Number"
        )
    adjusted = exponent + len(digits) - 1
    if adjusted > _MAX_EXPONENT:
        raise ValidationException(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        )
    if adjusted < _MIN_EXPONENT:
        raise ValidationException(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )
    return value


def _significant(value: Decimal) -> decimal.DecimalTuple:
    """The digits of ``value`` with leading and trailing zeros dropped (no rounding)."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    ds = list(digits)
    while ds and ds[0] == 0:
        ds.pop(0)
    while len(ds) > 1 and ds[-1] == 0:
        ds.pop()
        exponent += 1
    return decimal.DecimalTuple(sign, tuple(ds), exponent)


def format_number(value: Decimal) -> str:
    """DynamoDB's canonical text of a number: no exponent, no superfluous zeros."""
    if value.is_zero():
        return "0"
    sign, digits, exponent = _significant(value)
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    if exponent >= 0:
        text = text + "0" * exponent
    else:
        point = len(text) + exponent
        text = ("0." + "0" * -point + text) if point <= 0 else (text[:point] + "." + text[point:])
    return "-" + text if sign else text


def normalize_number(text: str) -> str:
    return format_number(parse_number(text))


# --- validation -------------------------------------------------------------------------------


def attribute_type(value: Any) -> str:
    """The single type descriptor of an AttributeValue, validating its shape only."""
    if not isinstance(value, dict):
        raise ValidationException(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    known = [k for k in value if k in ALL_TYPES]
    if len(known) != 1 or len(value) != 1:
        if len(known) > 1:
            raise ValidationException(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly "
                "one of the supported datatypes"
            )
        raise ValidationException(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    return str(known[0])


def validate_value(value: Any, depth: int = 1) -> AttributeValue:
    """Validate one AttributeValue and return it with numbers in canonical form.

    The input is not modified; an unchanged value is returned as the same object.
    """
    if depth > MAX_NESTING_DEPTH:
        raise ValidationException(
            "Nesting Levels have exceeded supported limits: Nesting levels have exceeded "
            "supported limits"
        )
    kind = attribute_type(value)
    checked: AttributeValue = value
    inner = checked[kind]
    if kind == "S":
        if not isinstance(inner, str):
            raise _serialization("String")
        return checked
    if kind == "N":
        if isinstance(inner, str) and _canonical(inner):
            return checked
        text = format_number(parse_number(inner))
        return checked if text == inner else {"N": text}
    if kind == "B":
        decode_binary(inner)
        return checked
    if kind == "BOOL":
        if not isinstance(inner, bool):
            raise _serialization("Boolean")
        return checked
    if kind == "NULL":
        if inner is not True:
            if not isinstance(inner, bool):
                raise _serialization("Boolean")
            raise ValidationException(
                "One or more parameter values were invalid: Null attribute value types must "
                "have the value of true"
            )
        return checked
    if kind in SET_TYPES:
        return _validate_set(kind, inner, checked)
    if kind == "L":
        if not isinstance(inner, list):
            raise _serialization("List")
        items = [validate_value(v, depth + 1) for v in inner]
        return checked if all(a is b for a, b in zip(items, inner, strict=True)) else {"L": items}
    # kind == "M"
    if not isinstance(inner, dict):
        raise _serialization("Map")
    members = {k: validate_value(v, depth + 1) for k, v in inner.items()}
    return checked if all(members[k] is inner[k] for k in inner) else {"M": members}


def _validate_set(kind: str, inner: Any, value: AttributeValue) -> AttributeValue:
    if not isinstance(inner, list):
        raise _serialization("List")
    if not inner:
        raise ValidationException(
            f"One or more parameter values were invalid: An {_SET_NAMES[kind]} set  may not "
            "be empty"
        )
    if kind == "SS":
        if not all(isinstance(s, str) for s in inner):
            raise _serialization("String")
        members: list[Any] = inner
        keys: list[Any] = inner
    elif kind == "NS":
        numbers = [parse_number(n) for n in inner]
        members = [format_number(n) for n in numbers]
        keys = [n.normalize(NUMBER_CONTEXT) for n in numbers]
    else:
        keys = [decode_binary(b) for b in inner]
        members = inner
    if len(set(keys)) != len(keys):
        shown = ", ".join(str(m) for m in inner)
        raise ValidationException(
            "One or more parameter values were invalid: Input collection "
            f"[{shown}] contains duplicates."
        )
    return value if members == inner else {kind: members}


def _serialization(expected: str) -> SerializationException:
    # DynamoDB's JSON front end answers a wrongly typed member with a SerializationException.
    return SerializationException(f"Unexpected value type in payload: expected {expected}")


def decode_binary(text: Any) -> bytes:
    if not isinstance(text, str):
        raise _serialization("Blob")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SerializationException(
            "Base64 encoded length is expected a multiple of 4 bytes but found: "
            f"{len(text)}"
        ) from None


MAX_ATTRIBUTE_NAME_BYTES = 65535


def check_attribute_name(name: str) -> None:
    """DynamoDB's limits on an attribute name: not empty, under 64 KB of UTF-8."""
    if not name:
        raise ValidationException(
            "One or more parameter values were invalid: An attribute name cannot be empty")
    # Only a name of more than 16,383 characters can exceed 65,535 bytes.
    if len(name) > MAX_ATTRIBUTE_NAME_BYTES // 4 and \
            len(name.encode()) > MAX_ATTRIBUTE_NAME_BYTES:
        raise ValidationException(
            "One or more parameter values were invalid: Attribute name is too large, must be "
            f"less than {MAX_ATTRIBUTE_NAME_BYTES + 1} bytes")


def validate_item(item: Any, what: str = "Item") -> Item:
    """Validate a whole item (a map of attribute name -> AttributeValue)."""
    if not isinstance(item, dict):
        raise SerializationException(f"Unexpected value type in payload: {what} must be a map")
    out: Item | None = None
    for name, value in item.items():
        check_attribute_name(name)
        checked = validate_value(value)
        if checked is not value:
            if out is None:
                out = dict(item)
            out[name] = checked
    return item if out is None else out


# --- comparison and keys ----------------------------------------------------------------------


def key_bytes(kind: str, value: AttributeValue) -> bytes | str | Decimal:
    """The comparable Python value of a key attribute (S -> str, N -> Decimal, B -> bytes)."""
    if kind == "S":
        return str(value["S"])
    if kind == "N":
        return Decimal(value["N"])
    return decode_binary(value["B"])


def values_equal(a: AttributeValue, b: AttributeValue) -> bool:
    """DynamoDB equality: type and value; numbers numerically; sets unordered."""
    (ta, va), = a.items()
    (tb, vb), = b.items()
    if ta != tb:
        return False
    if ta == "N":
        return Decimal(va) == Decimal(vb)
    if ta == "NS":
        return {Decimal(x) for x in va} == {Decimal(x) for x in vb}
    if ta in ("SS", "BS"):
        return set(va) == set(vb)
    if ta == "L":
        return len(va) == len(vb) and all(values_equal(x, y) for x, y in zip(va, vb, strict=True))
    if ta == "M":
        return va.keys() == vb.keys() and all(values_equal(va[k], vb[k]) for k in va)
    return bool(va == vb)


def compare_scalars(a: AttributeValue, b: AttributeValue) -> int | None:
    """Order two S, N or B values of the same type; None when they are not comparable."""
    (ta, va), = a.items()
    (tb, vb), = b.items()
    if ta != tb or ta not in SCALAR_TYPES:
        return None
    x: Any
    y: Any
    if ta == "N":
        x, y = Decimal(va), Decimal(vb)
    elif ta == "S":
        x, y = va.encode(), vb.encode()
    else:
        x, y = decode_binary(va), decode_binary(vb)
    return int(x > y) - int(x < y)


# --- sizes ------------------------------------------------------------------------------------


def number_size(text: str) -> int:
    """Bytes DynamoDB charges for a number: about one per two significant digits, plus one."""
    if _canonical(text):
        count = len(text.lstrip("-").replace(".", "").strip("0"))
    else:
        count = len(_significant(Decimal(text)).digits)
    return (count + 1) // 2 + 1


def value_size(value: AttributeValue) -> int:
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return len(decode_binary(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(decode_binary(b)) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    return 3 + sum(len(k.encode()) + 1 + value_size(v) for k, v in inner.items())


def item_size(item: Mapping[str, AttributeValue]) -> int:
    return sum(len(name.encode()) + value_size(v) for name, v in item.items())
