"""How long a stream record takes from its write's acknowledgement to a reader.

A writer puts ``samples`` items one after another, noting when each put was acknowledged; a
reader follows every shard of the table's stream from ``LATEST`` and notes when each record
first comes back. The delay of a write is the difference (docs/streams.md: on Cassandra it is
about the time window, ``--alternator-streams-time-window-s``).
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

from bench import workloads as w


def _clients(url: str, access_key: str, secret_key: str) -> tuple[Any, Any]:
    import boto3
    from botocore.config import Config

    kwargs: dict[str, Any] = dict(endpoint_url=url, region_name="us-east-1",
                                  aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                                  config=Config(retries={"max_attempts": 3}))
    return boto3.client("dynamodb", **kwargs), boto3.client("dynamodbstreams", **kwargs)


def measure(url: str, access_key: str, secret_key: str, samples: int = 200,
            timeout: float = 60.0) -> dict[str, Any]:
    dynamodb, streams = _clients(url, access_key, secret_key)
    arn = dynamodb.describe_table(TableName=w.STREAM)["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterators: dict[str, str | None] = {
        s["ShardId"]: streams.get_shard_iterator(StreamArn=arn, ShardId=s["ShardId"],
                                                 ShardIteratorType="LATEST")["ShardIterator"]
        for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]}
    acknowledged: dict[str, float] = {}
    run = f"delay{time.time_ns()}"

    def write() -> None:
        for i in range(samples):
            token = f"{run}.{i}"
            dynamodb.put_item(TableName=w.STREAM, Item={**w.kv_item(i), "v": {"S": token}})
            acknowledged[token] = time.monotonic()
            time.sleep(0.005)

    writer = threading.Thread(target=write)
    writer.start()
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < samples and time.monotonic() < deadline:
        for shard, iterator in list(iterators.items()):
            if iterator is None:
                continue
            page = streams.get_records(ShardIterator=iterator)
            now = time.monotonic()
            for record in page["Records"]:
                token = record["dynamodb"].get("NewImage", {}).get("v", {}).get("S", "")
                if token.startswith(run + ".") and token not in seen:
                    seen[token] = now
            iterators[shard] = page.get("NextShardIterator")
    writer.join()
    delays = sorted(max(0.0, seen[t] - acknowledged[t]) * 1000 for t in seen
                    if t in acknowledged)
    if len(delays) < samples:
        raise RuntimeError(f"only {len(delays)} of {samples} records were read in {timeout} s")
    return {"p50_ms": statistics.median(delays),
            "p99_ms": delays[min(len(delays) - 1, int(len(delays) * 0.99))],
            "samples": len(delays)}
