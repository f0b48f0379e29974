"""A stream consumer following every shard while client processes write through two server
processes: when the writers stop, every acknowledged change is in the stream exactly once, in
each item's order, and nothing else is (docs/streams.md)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

from conftest import (
    Endpoint,
    create_table,
)
from test_processes import start_process, stop_process

# Each acknowledged change prints what it did: ["w", token] for a put or update that left the
# item with that token, ["d", 1] for a delete that removed an item (its ALL_OLD said so).
_WRITER = r"""
import json, random, sys
import boto3
from botocore.config import Config
url, key, secret, table, seed, count = sys.argv[1:7]
client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id=key, aws_secret_access_key=secret,
                      config=Config(retries={"max_attempts": 1}))
rng = random.Random(int(seed))
def out(*what):
    print(json.dumps(what), flush=True)
for n in range(int(count)):
    token = f"{seed}-{n}"
    item_key = {"p": {"S": f"k{rng.randrange(15)}"}}
    action = rng.randrange(4)
    if action == 0:
        client.put_item(TableName=table, Item={**item_key, "v": {"S": token}})
        out("w", token)
    elif action == 1:
        client.update_item(TableName=table, Key=item_key, UpdateExpression="SET v = :v",
                           ExpressionAttributeValues={":v": {"S": token}})
        out("w", token)
    elif action == 2:
        old = client.delete_item(TableName=table, Key=item_key, ReturnValues="ALL_OLD")
        if "Attributes" in old:
            out("d", 1)
    else:
        keys = rng.sample(range(15), 3)
        tokens = [f"{token}.{i}" for i in range(3)]
        result = client.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {"p": {"S": f"k{k}"}, "v": {"S": t}}}}
            for k, t in zip(keys, tokens)]})
        left = {r["PutRequest"]["Item"]["v"]["S"]
                for r in result.get("UnprocessedItems", {}).get(table, [])}
        for t in tokens:
            if t not in left:
                out("w", t)
"""


class Consumer:
    """Follows every shard of a stream (new ones too) until told to stop and drain."""

    def __init__(self, endpoint: Endpoint, arn: str) -> None:
        self.streams = boto3.client(
            "dynamodbstreams", endpoint_url=endpoint.url, region_name="us-east-1",
            aws_access_key_id=endpoint.access_key, aws_secret_access_key=endpoint.secret_key,
            config=BotoConfig(retries={"max_attempts": 3}))
        self.arn = arn
        self.iterators: dict[str, str | None] = {}
        self.records: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _poll(self) -> int:
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        for shard in shards:
            if shard["ShardId"] not in self.iterators:
                self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard["ShardId"],
                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        got = 0
        for shard_id, iterator in list(self.iterators.items()):
            if iterator is None:
                continue
            page = self.streams.get_records(ShardIterator=iterator, Limit=100)
            self.records += page["Records"]
            got += len(page["Records"])
            self.iterators[shard_id] = page.get("NextShardIterator")
        return got

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                if not self._poll():
                    time.sleep(0.05)
            time.sleep(1.5)  # past the time window: the last records are in place
            while self._poll():
                pass
        except BaseException as error:  # reported by the test
            self.error = error


def test_every_acknowledged_change_exactly_once(store: tuple[list[str], tuple[str, str]],
                                                tmp_path: Path) -> None:
    args, credentials = store
    servers = [start_process(args, tmp_path / f"server{i}.log", credentials) for i in range(2)]
    try:
        client = servers[0][1].client()
        table = create_table(client, [("p", "HASH", "S")], StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        time.sleep(1.1)  # both server processes see the stream (their schema cache: 1 s)
        consumer = Consumer(servers[1][1], arn)
        consumer.thread.start()
        writers = [subprocess.Popen(
            [sys.executable, "-c", _WRITER, servers[i % 2][1].url, *credentials, table,
             str(i), "200"], stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(3)]
        done: list[list[Any]] = []
        for writer in writers:
            out, err = writer.communicate(timeout=300)
            assert writer.returncode == 0, err.decode()
            done += [json.loads(line) for line in out.decode().splitlines()]
        consumer.stopping.set()
        consumer.thread.join(120)
        assert consumer.error is None, repr(consumer.error)
        records = consumer.records

        written = [token for kind, token in done if kind == "w"]
        removed = sum(1 for kind, _ in done if kind == "d")
        assert len({r["eventID"] for r in records}) == len(records), "a record came twice"
        tokens = [r["dynamodb"]["NewImage"]["v"]["S"] for r in records
                  if r["eventName"] != "REMOVE"]
        assert sorted(tokens) == sorted(written), "changes missing, doubled or invented"
        assert sum(1 for r in records if r["eventName"] == "REMOVE") == removed
        # Each item's records, in order, chain: each one's old image is the previous new one.
        by_item: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_item.setdefault(record["dynamodb"]["Keys"]["p"]["S"], []).append(record)
        for chain in by_item.values():
            chain.sort(key=lambda r: int(r["dynamodb"]["SequenceNumber"]))
            previous = None
            for record in chain:
                body = record["dynamodb"]
                assert body.get("OldImage") == previous, "per-item order broken"
                expected = "INSERT" if previous is None else (
                    "REMOVE" if "NewImage" not in body else "MODIFY")
                assert record["eventName"] == expected
                previous = body.get("NewImage")
        final = {i["p"]["S"]: i for i in client.scan(TableName=table,
                                                     ConsistentRead=True)["Items"]}
        for key, chain in by_item.items():
            assert chain[-1]["dynamodb"].get("NewImage") == final.get(key)
        client.delete_table(TableName=table)
    finally:
        for proc, _ in servers:
            stop_process(proc)
