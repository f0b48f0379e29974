"""Shards, sequence numbers, iterators and records of a stream (alternator/streams/)."""

from __future__ import annotations

import orjson

from alternator.schema import KeyAttribute, StreamSettings, TableSchema
from alternator.streams.records import put_of
from alternator.streams.shards import (
    MAX_TIE,
    ShardIterator,
    before,
    decode_iterator,
    find_shard,
    label_of,
    parse_sequence_number,
    parse_stream_arn,
    sequence_number,
    shards_of,
)

S = 1_000_000  # microseconds per second


def stream(started: float = 1000.0, closed: float | None = None) -> StreamSettings:
    return StreamSettings("NEW_AND_OLD_IMAGES", label_of(started), started, closed, 2, 10.0)


def test_sequence_numbers_round_trip_and_order() -> None:
    positions = [(1_700_000_000_000_000, 0), (1_700_000_000_000_000, MAX_TIE),
                 (1_700_000_000_000_001, 5)]
    numbers = [sequence_number(p) for p in positions]
    assert [parse_sequence_number(n) for n in numbers] == positions
    assert [int(n) for n in numbers] == sorted(int(n) for n in numbers)
    assert all(len(n) <= 40 for n in numbers)
    assert before((5, 0)) == (4, MAX_TIE) and before((5, 3)) == (5, 2)
    for bad in ("", "12a", "1" * 41, "-5"):
        assert parse_sequence_number(bad) is None


def test_shards_of_a_stream_by_generation_with_parents() -> None:
    st = stream(started=1005.0)
    shards = shards_of(st, now_us=1031 * S, retention_us=3600 * S)
    # generations [1000, 1010) (from the start, 1005), [1010, 1020), [1020, 1030), [1030, ...)
    assert [(s.generation, s.bucket) for s in shards] == [
        (g, b) for g in (100, 101, 102, 103) for b in (0, 1)]
    assert shards[0].start_us == 1005 * S and shards[0].parent_id is None
    assert shards[2].parent_id == shards[0].id and shards[3].parent_id == shards[1].id
    assert shards[0].closed(1031 * S) and not shards[-1].closed(1031 * S)
    assert shards[0].id == "shardId-00000000000001000000-00000000"


def test_closed_and_trimmed_streams() -> None:
    st = stream(started=1005.0, closed=1021.0)
    shards = shards_of(st, now_us=2000 * S, retention_us=3600 * S)
    assert {s.generation for s in shards} == {100, 101, 102}
    assert shards[-1].end_us == 1021 * S
    trimmed = shards_of(st, now_us=1030 * S + S // 2, retention_us=10 * S)
    assert {s.generation for s in trimmed} == {102}  # ends after now - retention only


def test_find_shard() -> None:
    st = stream(started=1005.0)
    now = 1031 * S
    for shard in shards_of(st, now, 3600 * S):
        assert find_shard(st, shard.id, now, 3600 * S) == shard
    assert find_shard(st, "shardId-00000000000001000000-00000002", now, 3600 * S) is None
    assert find_shard(st, "shardId-00000000000000990000-00000000", now, 3600 * S) is None
    assert find_shard(st, "shardId-00000000000001040000-00000000", now, 3600 * S) is None
    assert find_shard(st, "shardId-00000000000001001000-00000000", now, 3600 * S) is None
    assert find_shard(st, "nonsense", now, 3600 * S) is None


def test_iterators_round_trip_and_refuse_garbage() -> None:
    it = ShardIterator("table", "label", "shardId-1", (5, 7), 123)
    assert decode_iterator(it.encode()) == it
    horizon = ShardIterator("table", "label", "shardId-1", None, 123)
    assert decode_iterator(horizon.encode()) == horizon
    for bad in ("", "!!!", "W10=", "WzEsMiwzXQ==", "x" * 100):
        assert decode_iterator(bad) is None


def test_stream_arns() -> None:
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/T.x-1/stream/2026-01-01T00:00:00.000"
    assert parse_stream_arn(arn) == ("T.x-1", "2026-01-01T00:00:00.000")
    for bad in ("arn:aws:dynamodb:us-east-1:0:table/T", "table/T/stream/L", "arn:x/stream/"):
        assert parse_stream_arn(bad) is None


def test_records_per_view_type() -> None:
    table = TableSchema("T", KeyAttribute("p", "S"), None, (KeyAttribute("p", "S"),), "id",
                        0.0, stream=StreamSettings("KEYS_ONLY", "L", 0.0))
    old, new = {"p": {"S": "k"}, "a": {"N": "1"}}, {"p": {"S": "k"}, "a": {"N": "2"}}
    put = put_of(table, old, new)
    assert put is not None
    assert orjson.loads(put.data) == {"eventName": "MODIFY", "Keys": {"p": {"S": "k"}},
                                      "SizeBytes": 2}
    assert put_of(table, new, new) is None  # nothing changed
    assert put_of(table, None, None) is None
    removal = put_of(table, old, None, service=True)
    assert removal is not None
    assert orjson.loads(removal.data)["userIdentity"]["Type"] == "Service"
