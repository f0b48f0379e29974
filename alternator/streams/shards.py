"""Shards, sequence numbers, iterators and ARNs of a stream: pure arithmetic (docs/streams.md).

Time is cut into generations of ``shard_period`` seconds; each generation of a stream has one
shard per hash bucket, whose parent is the same bucket's shard of the generation before. A
position in a shard is (timestamp in microseconds, tie-break); its sequence number is
``timestamp * 10**20 + tie``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from alternator.schema import StreamSettings
from alternator.storage import StreamPosition

SEQUENCE_FACTOR = 10**20
MAX_TIE = 2**63 - 1
_SHARD_ID = re.compile(r"shardId-(\d{20})-([0-9a-f]{8})")
_DIGITS = re.compile(r"[0-9]{1,40}")
_ITERATOR_VERSION = 1


def sequence_number(position: StreamPosition) -> str:
    return str(position[0] * SEQUENCE_FACTOR + position[1])


def parse_sequence_number(text: str) -> StreamPosition | None:
    if not _DIGITS.fullmatch(text):
        return None
    ts, tie = divmod(int(text), SEQUENCE_FACTOR)
    if tie > MAX_TIE:
        return None
    return ts, tie


def before(position: StreamPosition) -> StreamPosition:
    """The position just below ``position`` (reading "after" it includes ``position``)."""
    ts, tie = position
    return (ts, tie - 1) if tie > 0 else (ts - 1, MAX_TIE)


def label_of(started: float) -> str:
    """A stream's label: when it started, as DynamoDB writes it (ISO 8601, milliseconds)."""
    moment = datetime.fromtimestamp(started, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def parse_stream_arn(arn: str) -> tuple[str, str] | None:
    """(table name, label) of a stream ARN, None if it is not one."""
    head, sep, label = arn.rpartition("/stream/")
    if not sep or not label or not head.startswith("arn:"):
        return None
    _, sep, table = head.rpartition(":table/")
    if not sep or not table or "/" in table:
        return None
    return table, label


@dataclass(frozen=True, slots=True)
class Shard:
    generation: int
    bucket: int
    start_us: int  # the first timestamp it can hold
    end_us: int  # the first timestamp after it
    period_us: int
    has_parent: bool

    @property
    def id(self) -> str:
        return shard_id(self.generation, self.bucket, self.period_us)

    @property
    def parent_id(self) -> str | None:
        if not self.has_parent:
            return None
        return shard_id(self.generation - 1, self.bucket, self.period_us)

    @property
    def first(self) -> StreamPosition:
        return self.start_us, 0

    @property
    def last(self) -> StreamPosition:
        return self.end_us - 1, MAX_TIE

    def closed(self, horizon_us: int) -> bool:
        """Whether no record can be added to it any more, readers being at ``horizon_us``."""
        return self.end_us <= horizon_us + 1


def period_us(stream: StreamSettings) -> int:
    return int(stream.shard_period * 1_000_000)


def shard_id(generation: int, bucket: int, period: int) -> str:
    return f"shardId-{generation * period // 1000:020d}-{bucket:08x}"


def _shard(stream: StreamSettings, generation: int, bucket: int) -> Shard:
    period = period_us(stream)
    start = int(stream.started * 1_000_000)
    first_generation = start // period
    end = (generation + 1) * period
    if stream.closed is not None:
        end = min(end, int(stream.closed * 1_000_000))
    return Shard(generation, bucket, max(generation * period, start), end, period,
                 generation > first_generation)


def shards_of(stream: StreamSettings, now_us: int, retention_us: int) -> list[Shard]:
    """Every shard of the stream whose records are not all trimmed, oldest first."""
    period = period_us(stream)
    start = int(stream.started * 1_000_000)
    last = int(stream.closed * 1_000_000) - 1 if stream.closed is not None else now_us
    out = []
    for generation in range(max(start, now_us - retention_us) // period, last // period + 1):
        for bucket in range(stream.shards):
            shard = _shard(stream, generation, bucket)
            if shard.start_us < shard.end_us and shard.end_us > now_us - retention_us:
                out.append(shard)
    return out


def find_shard(stream: StreamSettings, text: str, now_us: int,
               retention_us: int) -> Shard | None:
    """The stream's shard with this ID, if it exists and is not trimmed."""
    match = _SHARD_ID.fullmatch(text)
    if match is None:
        return None
    period = period_us(stream)
    ms, bucket = int(match.group(1)), int(match.group(2), 16)
    if (ms * 1000) % period or bucket >= stream.shards:
        return None
    shard = _shard(stream, ms * 1000 // period, bucket)
    start = int(stream.started * 1_000_000)
    if shard.end_us <= start or shard.start_us >= shard.end_us or shard.start_us > now_us \
            or shard.end_us <= now_us - retention_us:
        return None
    return shard


@dataclass(frozen=True, slots=True)
class ShardIterator:
    """Where a reader is: after ``after`` in one shard (None: at the oldest record kept)."""

    table: str
    label: str
    shard: str
    after: StreamPosition | None
    issued_ms: int

    def encode(self) -> str:
        data = orjson.dumps([_ITERATOR_VERSION, self.table, self.label, self.shard,
                             list(self.after) if self.after is not None else None,
                             self.issued_ms])
        return base64.urlsafe_b64encode(data).decode()


def decode_iterator(text: str) -> ShardIterator | None:
    try:
        fields = orjson.loads(base64.urlsafe_b64decode(text.encode()))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        return None
    if not isinstance(fields, list) or len(fields) != 6 or fields[0] != _ITERATOR_VERSION:
        return None
    _, table, label, shard, after, issued = fields
    if not (isinstance(table, str) and isinstance(label, str) and isinstance(shard, str)
            and isinstance(issued, int)):
        return None
    if after is not None:
        if not (isinstance(after, list) and len(after) == 2
                and all(isinstance(x, int) and x >= -1 for x in after)):
            return None
        after = (after[0], after[1])
    return ShardIterator(table, label, shard, after, issued)
