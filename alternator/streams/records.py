"""The stream record of one write, from its old and new item (pure).

A write that changes nothing has no record; otherwise the record is ``INSERT`` (there was no
item), ``MODIFY`` or ``REMOVE`` (there is none now), with the images its stream's view type asks
for. The body stored is what GetRecords' ``dynamodb`` member needs besides what the position
gives (sequence number, creation time).
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

import orjson

from alternator.schema import StreamSettings, TableSchema
from alternator.storage import StreamPosition, StreamPut
from alternator.storage.codec import encode_sortable
from alternator.streams.shards import sequence_number
from alternator.values import Item, item_size

NEW_IMAGE_VIEWS = frozenset({"NEW_IMAGE", "NEW_AND_OLD_IMAGES"})
OLD_IMAGE_VIEWS = frozenset({"OLD_IMAGE", "NEW_AND_OLD_IMAGES"})
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
# Who Time to Live deletions are attributed to, as DynamoDB does.
SERVICE_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}


def bucket_of(table: TableSchema, item: Item, shards: int) -> int:
    """The hash bucket of an item's partition key: all its changes go to one shard."""
    pk = table.partition_key
    return zlib.crc32(encode_sortable(pk.type, item[pk.name])) % shards


def put_of(table: TableSchema, old: Item | None, new: Item | None,
           service: bool = False) -> StreamPut | None:
    """The record a write from ``old`` to ``new`` adds to the table's stream; None when the
    table has no stream or the write changed nothing."""
    stream = table.stream
    if stream is None or old == new:
        return None
    item = new if new is not None else old
    assert item is not None
    keys = {name: item[name] for name in table.key_names}
    body: dict[str, Any] = {
        "eventName": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
        "Keys": keys,
    }
    size = item_size(keys)
    if new is not None and stream.view_type in NEW_IMAGE_VIEWS:
        body["NewImage"] = new
        size += item_size(new)
    if old is not None and stream.view_type in OLD_IMAGE_VIEWS:
        body["OldImage"] = old
        size += item_size(old)
    body["SizeBytes"] = size
    if service:
        body["userIdentity"] = SERVICE_IDENTITY
    return StreamPut(stream.label, bucket_of(table, keys, stream.shards),
                     int(stream.shard_period * 1_000_000), orjson.dumps(body))


def present(stream: StreamSettings, region: str, position: StreamPosition,
            data: bytes) -> dict[str, Any]:
    """A stored record as GetRecords returns it."""
    body = orjson.loads(data)
    seq = sequence_number(position)
    dynamodb: dict[str, Any] = {"ApproximateCreationDateTime": position[0] // 1_000_000,
                                "Keys": body["Keys"]}
    for image in ("NewImage", "OldImage"):
        if image in body:
            dynamodb[image] = body[image]
    dynamodb.update({"SequenceNumber": seq, "SizeBytes": body["SizeBytes"],
                     "StreamViewType": stream.view_type})
    record: dict[str, Any] = {
        "eventID": hashlib.md5(f"{stream.label}/{seq}".encode(), usedforsecurity=False)
        .hexdigest(),
        "eventName": body["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
    }
    if "userIdentity" in body:
        record["userIdentity"] = body["userIdentity"]
    return record
