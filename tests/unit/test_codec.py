"""storage/codec.py: tagged values, CQL decimals, order-preserving SQLite keys."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal
from typing import Any

import pytest

from alternator.storage.codec import (
    TAG_B,
    TAG_BOOL,
    TAG_JSON,
    TAG_N,
    TAG_S,
    decode_decimal,
    decode_sortable,
    decode_value,
    encode_decimal,
    encode_sortable,
    segment_range,
)


def test_tags_are_stable() -> None:
    # Written to disk, shared with Scylla's Alternator layout: never renumber.
    assert (TAG_S, TAG_B, TAG_BOOL, TAG_N, TAG_JSON) == (0, 1, 2, 3, 4)


@pytest.mark.parametrize("value", [
    {"S": ""}, {"S": "héllo"}, {"B": "AAEC"}, {"BOOL": True}, {"BOOL": False}, {"N": "0"},
    {"N": "-12.5"}, {"N": "1" + "0" * 125}, {"N": "0." + "0" * 129 + "1"},
    {"NULL": True}, {"SS": ["a"]}, {"NS": ["1", "2"]}, {"BS": ["AA=="]},
    {"L": [{"S": "x"}, {"M": {}}]}, {"M": {"k": {"N": "1"}}},
])
def test_value_round_trip(value: Any) -> None:
    from alternator.storage.codec import encode_value

    assert decode_value(encode_value(value)) == value


@pytest.mark.parametrize("text, data", [
    ("0", b"\x00\x00\x00\x00\x00"),
    ("1", b"\x00\x00\x00\x00\x01"),
    ("-1", b"\x00\x00\x00\x00\xff"),
    ("1.5", b"\x00\x00\x00\x01\x0f"),
    ("128", b"\x00\x00\x00\x00\x00\x80"),
    ("-129", b"\x00\x00\x00\x00\xff\x7f"),
    ("1E+2", b"\xff\xff\xff\xfe\x01"),
])
def test_cql_decimal_encoding(text: str, data: bytes) -> None:
    assert encode_decimal(Decimal(text)) == data
    assert decode_decimal(data) == Decimal(text)


def _numbers() -> list[Decimal]:
    rng = random.Random(7)
    out = [Decimal(x) for x in ("0", "1", "-1", "0.5", "-0.5", "10", "-10", "1e125", "-1e125",
                                "1e-130", "-1e-130", "9.99", "10.01", "-9.99", "-10.01",
                                "1.2", "1.23", "-1.2", "-1.23", "100", "99.9999")]
    for _ in range(300):
        digits = rng.randint(1, 38)
        mantissa = rng.randint(1, 10 ** digits - 1) * rng.choice((1, -1))
        out.append(Decimal(mantissa).scaleb(rng.randint(-100, 80)))
    return out


def test_sortable_numbers_order_like_numbers() -> None:
    numbers = _numbers()
    by_bytes = sorted(numbers, key=lambda n: encode_sortable("N", {"N": str(n)}))
    assert by_bytes == sorted(numbers)
    for n in numbers:
        encoded = encode_sortable("N", {"N": str(n)})
        assert Decimal(decode_sortable("N", encoded)["N"]) == n


def test_sortable_strings_and_binary() -> None:
    words = ["", "a", "B", "ab", "é", "z", "zz", "\U0001f600"]
    by_bytes = sorted(words, key=lambda w: encode_sortable("S", {"S": w}))
    assert by_bytes == sorted(words, key=lambda w: w.encode())
    assert decode_sortable("S", encode_sortable("S", {"S": "é"})) == {"S": "é"}
    assert decode_sortable("B", encode_sortable("B", {"B": "AP8="})) == {"B": "AP8="}


@pytest.mark.parametrize("total", [1, 3, 16, 1000000])
def test_segments_cover_the_token_space(total: int) -> None:
    space = 1 << 32
    ranges = [segment_range(i, total, space) for i in range(min(total, 50))]
    assert ranges[0][0] == 0
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert end == start
    if total <= 50:
        assert ranges[-1][1] == space


def test_decimal_decoding_keeps_38_digits() -> None:
    for text in ("12345678901234567890123456789012345678",
                 "-9.9999999999999999999999999999999999999E+125", "1E-130"):
        value = Decimal(text)
        assert decode_decimal(encode_decimal(value)) == value


@pytest.mark.parametrize("total", [1, 2, 3, 7, 16, 1000])
def test_segment_of_agrees_with_segment_range(total: int) -> None:
    from alternator.storage.codec import segment_of

    rng = random.Random(total)
    for space, low in ((1 << 32, 0), (1 << 64, -(1 << 63))):
        tokens = [low, low + space - 1] + [rng.randrange(low, low + space) for _ in range(300)]
        for segment in range(min(total, 20)):
            start, end = segment_range(segment, total, space, low)
            tokens += [start, end - 1]
        for token in tokens:
            segment = segment_of(token, total, space, low)
            start, end = segment_range(segment, total, space, low)
            assert start <= token < end
