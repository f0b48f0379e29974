"""Pure conversions between DynamoDB items and what the backends store.

Cassandra/Scylla rows follow Scylla Alternator's layout: key attributes are typed columns
(S -> text, N -> decimal, B -> blob) and every other attribute is one entry of the
``":attrs" map<text, blob>`` column, a type tag byte followed by the value. The tag values are
on disk: never renumber them.

SQLite rows carry keys encoded so that comparing the bytes orders them exactly as DynamoDB orders
sort keys: S by UTF-8 bytes, B by bytes, N numerically over the whole 38-digit range.
"""

from __future__ import annotations

import base64
import hashlib
import re
from decimal import Decimal
from typing import Any

import orjson

from alternator.schema import KeyAttribute, TableSchema
from alternator.values import AttributeValue, Item, format_number

# --- Cassandra: names -------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[A-Za-z0-9_]+")
_MAX_CQL_NAME = 48


def cql_names(table: str) -> tuple[str, str]:
    """The CQL keyspace and table holding DynamoDB table ``table``."""
    keyspace = "alternator_" + table
    if _SAFE_NAME.fullmatch(table) and len(keyspace) <= _MAX_CQL_NAME:
        return keyspace, table
    digest = hashlib.sha256(table.encode()).hexdigest()[:12]
    safe = re.sub(r"[^A-Za-z0-9_]", "_", table)[: _MAX_CQL_NAME - len("alternator_") - 13]
    return f"alternator_{safe}_{digest}", f"{safe}_{digest}"


# --- Cassandra: type-tagged attribute values --------------------------------------------------

TAG_S = 0
TAG_B = 1
TAG_BOOL = 2
TAG_N = 3
TAG_JSON = 4  # any other type: the AttributeValue as JSON


def encode_decimal(value: Decimal) -> bytes:
    """CQL's ``decimal`` serialization: a 4-byte scale then the unscaled two's-complement int."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    unscaled = int("".join(map(str, digits)) or "0")
    if sign:
        unscaled = -unscaled
    length = (unscaled + (unscaled < 0)).bit_length() // 8 + 1
    return (-exponent).to_bytes(4, "big", signed=True) + unscaled.to_bytes(length, "big", signed=True)


def decode_decimal(data: bytes) -> Decimal:
    scale = int.from_bytes(data[:4], "big", signed=True)
    unscaled = int.from_bytes(data[4:], "big", signed=True)
    # Built from its parts, not with scaleb(), which would round to the context's precision.
    digits = tuple(int(d) for d in str(abs(unscaled)))
    return Decimal((1 if unscaled < 0 else 0, digits, -scale))


def encode_value(value: AttributeValue) -> bytes:
    (kind, inner), = value.items()
    if kind == "S":
        return bytes((TAG_S,)) + str(inner).encode()
    if kind == "B":
        return bytes((TAG_B,)) + base64.b64decode(inner)
    if kind == "BOOL":
        return bytes((TAG_BOOL, 1 if inner else 0))
    if kind == "N":
        return bytes((TAG_N,)) + encode_decimal(Decimal(inner))
    return bytes((TAG_JSON,)) + orjson.dumps(value)


def decode_value(data: bytes) -> AttributeValue:
    tag = data[0]
    if tag == TAG_S:
        return {"S": data[1:].decode()}
    if tag == TAG_B:
        return {"B": base64.b64encode(data[1:]).decode()}
    if tag == TAG_BOOL:
        return {"BOOL": data[1] != 0}
    if tag == TAG_N:
        return {"N": format_number(decode_decimal(data[1:]))}
    if tag == TAG_JSON:
        result: AttributeValue = orjson.loads(data[1:])
        return result
    raise ValueError(f"unknown attribute type tag {tag}")


def key_to_cql(attr: KeyAttribute, value: AttributeValue) -> Any:
    inner = value[attr.type]
    if attr.type == "S":
        return inner
    if attr.type == "N":
        return Decimal(inner)
    return base64.b64decode(inner)


def key_from_cql(attr: KeyAttribute, value: Any) -> AttributeValue:
    if attr.type == "S":
        return {"S": value}
    if attr.type == "N":
        return {"N": format_number(value)}
    return {"B": base64.b64encode(value).decode()}


# The ``":attrs"`` entry a transaction's lock adds (docs/transactions.md): no attribute has
# an empty name.
LOCK_MARKER = ""


def attrs_to_cql(schema: TableSchema, item: Item) -> dict[str, bytes]:
    keys = schema.key_names
    return {name: encode_value(v) for name, v in item.items() if name not in keys}


def row_to_item(schema: TableSchema, pk: Any, ck: Any, attrs: dict[str, bytes] | None) -> Item:
    item: Item = {schema.partition_key.name: key_from_cql(schema.partition_key, pk)}
    if schema.sort_key is not None:
        item[schema.sort_key.name] = key_from_cql(schema.sort_key, ck)
    return with_attributes(item, attrs)


def with_attributes(item: Item, attrs: dict[str, bytes] | None) -> Item:
    """``item`` with the attributes of an ``":attrs"`` map added (the lock marker is none)."""
    if attrs:
        for name, data in attrs.items():
            if name != LOCK_MARKER:
                item[name] = decode_value(data)
    return item


# --- SQLite: order-preserving key bytes -------------------------------------------------------


def encode_sortable(kind: str, value: AttributeValue) -> bytes:
    inner = value[kind]
    if kind == "S":
        return bytes(inner.encode())
    if kind == "B":
        return base64.b64decode(inner)
    return _sortable_decimal(Decimal(inner))


def decode_sortable(kind: str, data: bytes) -> AttributeValue:
    if kind == "S":
        return {"S": data.decode()}
    if kind == "B":
        return {"B": base64.b64encode(data).decode()}
    return {"N": format_number(_decimal_from_sortable(data))}


_EXP_BIAS = 0x8000


def _sortable_decimal(value: Decimal) -> bytes:
    """Bytes whose memcmp order is numeric order.

    Layout: a sign byte (0x40 negative, 0x80 zero, 0xC0 positive); for non-zero numbers the
    biased adjusted exponent (2 bytes) and the significant digits as ASCII. Negative numbers
    invert exponent and digits and end with 0xFF so that a longer significand sorts first.
    """
    if value.is_zero():
        return b"\x80"
    sign, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)
    adjusted = exponent + len(digits) - 1
    text = "".join(map(str, digits)).encode()
    if not sign:
        return b"\xc0" + (adjusted + _EXP_BIAS).to_bytes(2, "big") + text
    inverted = bytes(255 - c for c in text)
    return b"\x40" + (0xFFFF - (adjusted + _EXP_BIAS)).to_bytes(2, "big") + inverted + b"\xff"


def _decimal_from_sortable(data: bytes) -> Decimal:
    if data[0] == 0x80:
        return Decimal(0)
    if data[0] == 0xC0:
        adjusted = int.from_bytes(data[1:3], "big") - _EXP_BIAS
        digits = data[3:].decode()
        sign = ""
    else:
        adjusted = 0xFFFF - int.from_bytes(data[1:3], "big") - _EXP_BIAS
        digits = bytes(255 - c for c in data[3:-1]).decode()
        sign = "-"
    return Decimal(f"{sign}{digits[0]}.{digits[1:]}E{adjusted}" if len(digits) > 1
                   else f"{sign}{digits}E{adjusted}")


def partition_token(partition: bytes) -> int:
    """A stable 32-bit hash of the encoded partition key: SQLite's scan order and segments."""
    return int.from_bytes(hashlib.blake2b(partition, digest_size=4).digest(), "big")


TOKEN_SPACE = 1 << 32


def segment_range(segment: int, total: int, space: int = TOKEN_SPACE, low: int = 0) -> tuple[int, int]:
    """The half-open token range [start, end) of one parallel-scan segment."""
    start = low + space * segment // total
    end = low + space * (segment + 1) // total
    return start, end


def segment_of(token: int, total: int, space: int = TOKEN_SPACE, low: int = 0) -> int:
    """The parallel-scan segment whose :func:`segment_range` holds ``token``."""
    segment = (token - low) * total // space
    while segment + 1 < total and segment_range(segment + 1, total, space, low)[0] <= token:
        segment += 1
    return segment


def encode_tuple(parts: list[bytes]) -> bytes:
    """Concatenate order-preserving encodings so that the result orders as the tuple does.

    Each part has its 0x00 bytes escaped as 0x00 0xFF and ends with 0x00 0x01, so a shorter
    part sorts before any longer one that extends it, and no part can run into the next.
    """
    return b"".join(p.replace(b"\x00", b"\x00\xff") + b"\x00\x01" for p in parts)
