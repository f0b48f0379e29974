"""DynamoDB Streams, black-box through boto3's ``dynamodbstreams`` client, on both backends
(docs/streams.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from alternator.config import Config, StreamsConfig, WriteIsolation

from conftest import (
    Endpoint,
    ServerThread,
    cassandra_config,
    create_table,
    error_of,
    new_key,
    sqlite_superuser,
)

VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
# A little more than the Cassandra test server's time window: records are readable after it.
SETTLE = {"cassandra": 1.3, "sqlite": 0.0, "external": 1.3}


def streams_client(endpoint: Endpoint, validate: bool = True) -> Any:
    return boto3.client("dynamodbstreams", endpoint_url=endpoint.url, region_name="us-east-1",
                        aws_access_key_id=endpoint.access_key,
                        aws_secret_access_key=endpoint.secret_key,
                        config=BotoConfig(retries={"max_attempts": 1},
                                          parameter_validation=validate))


@pytest.fixture(scope="module")
def streams(endpoint: Endpoint) -> Any:
    return streams_client(endpoint)


def settle(endpoint: Endpoint) -> None:
    time.sleep(SETTLE[endpoint.backend])


def stream_table(dynamodb: Any, view_type: str = "NEW_AND_OLD_IMAGES",
                 sort_key: bool = False, **extra: Any) -> tuple[str, str]:
    schema = [("p", "HASH", "S")] + ([("c", "RANGE", "N")] if sort_key else [])
    name = create_table(dynamodb, schema, StreamSpecification={
        "StreamEnabled": True, "StreamViewType": view_type}, **extra)
    arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    return name, arn


def shards_of(streams: Any, arn: str) -> list[dict[str, Any]]:
    shards: list[dict[str, Any]] = []
    start: dict[str, Any] = {}
    while True:
        desc = streams.describe_stream(StreamArn=arn, **start)["StreamDescription"]
        shards += desc["Shards"]
        if "LastEvaluatedShardId" not in desc:
            return shards
        start = {"ExclusiveStartShardId": desc["LastEvaluatedShardId"]}


def read_shard(streams: Any, iterator: str | None, limit: int = 1000) -> list[dict[str, Any]]:
    """Every record from the iterator on, until a page comes back empty."""
    records: list[dict[str, Any]] = []
    while iterator is not None:
        page = streams.get_records(ShardIterator=iterator, Limit=limit)
        records += page["Records"]
        iterator = page.get("NextShardIterator")
        if not page["Records"]:
            break
    return records


def read_all(streams: Any, arn: str) -> list[dict[str, Any]]:
    """Every record of the stream, shard by shard (parents before their children)."""
    records = []
    for shard in sorted(shards_of(streams, arn), key=lambda s: s["ShardId"]):
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records += read_shard(streams, iterator)
    return records


def summary(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["eventName"], r["dynamodb"]["Keys"]["p"]["S"]) for r in records]


# --- StreamSpecification ----------------------------------------------------------------------


def test_describe_table_shows_the_stream(dynamodb: Any) -> None:
    name, arn = stream_table(dynamodb, "NEW_IMAGE")
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert table["LatestStreamLabel"] == arn.rsplit("/", 1)[1]
    assert arn == (f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}/stream/"
                   f"{table['LatestStreamLabel']}")
    dynamodb.delete_table(TableName=name)


def test_a_table_without_stream_shows_none(dynamodb: Any, table_hash: str) -> None:
    table = dynamodb.describe_table(TableName=table_hash)["Table"]
    assert "StreamSpecification" not in table and "LatestStreamArn" not in table


def test_create_table_with_stream_disabled_has_none(dynamodb: Any) -> None:
    name = create_table(dynamodb, [("p", "HASH", "S")],
                        StreamSpecification={"StreamEnabled": False})
    assert "LatestStreamArn" not in dynamodb.describe_table(TableName=name)["Table"]
    dynamodb.delete_table(TableName=name)


def test_enabled_stream_needs_a_view_type(raw_dynamodb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        create_table(raw_dynamodb, [("p", "HASH", "S")],
                     StreamSpecification={"StreamEnabled": True})
    assert error_of(exc)[0] == "ValidationException"
    assert "StreamViewType" in error_of(exc)[1]
    with pytest.raises(ClientError) as exc:
        create_table(raw_dynamodb, [("p", "HASH", "S")],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "ALL"})
    assert error_of(exc)[0] == "ValidationException"


def test_enable_twice_and_disable_twice_are_refused(dynamodb: Any) -> None:
    name, _ = stream_table(dynamodb)
    for view_type in ("NEW_AND_OLD_IMAGES", "KEYS_ONLY"):  # a view type changes only off/on
        with pytest.raises(ClientError) as exc:
            dynamodb.update_table(TableName=name, StreamSpecification={
                "StreamEnabled": True, "StreamViewType": view_type})
        assert error_of(exc) == ("ValidationException",
                                 f"Table already has an enabled stream: TableName: {name}")
    dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    with pytest.raises(ClientError) as exc:
        dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert error_of(exc) == ("ValidationException",
                             f"Table has no stream to disable: TableName: {name}")
    dynamodb.delete_table(TableName=name)


def test_refused_stream_change_changes_nothing_else(dynamodb: Any) -> None:
    name, _ = stream_table(dynamodb)
    with pytest.raises(ClientError):
        dynamodb.update_table(TableName=name, BillingMode="PROVISIONED",
                              ProvisionedThroughput={"ReadCapacityUnits": 3,
                                                     "WriteCapacityUnits": 3},
                              StreamSpecification={"StreamEnabled": True,
                                                   "StreamViewType": "KEYS_ONLY"})
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    dynamodb.delete_table(TableName=name)


# --- records ----------------------------------------------------------------------------------


@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_each_view_type_and_event_name(endpoint: Endpoint, dynamodb: Any, streams: Any,
                                       view_type: str) -> None:
    name, arn = stream_table(dynamodb, view_type)
    key = {"p": {"S": "k"}}
    first = {**key, "a": {"N": "1"}}
    second = {**key, "a": {"N": "2"}, "b": {"SS": ["x"]}}
    dynamodb.put_item(TableName=name, Item=first)
    dynamodb.update_item(TableName=name, Key=key, UpdateExpression="SET a = :a, b = :b",
                         ExpressionAttributeValues={":a": {"N": "2"}, ":b": {"SS": ["x"]}})
    dynamodb.delete_item(TableName=name, Key=key)
    settle(endpoint)
    records = read_all(streams, arn)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    new = view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    old = view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    expected = [(first if new else None, None), (second if new else None, first if old else None),
                (None, second if old else None)]
    for record, (new_image, old_image) in zip(records, expected, strict=True):
        body = record["dynamodb"]
        assert body["Keys"] == key
        assert body.get("NewImage") == new_image
        assert body.get("OldImage") == old_image
        assert body["StreamViewType"] == view_type
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventVersion"] == "1.1"
        assert record["awsRegion"] == "us-east-1"
        assert len(record["eventID"]) == 32
        assert body["SizeBytes"] > 0
        assert abs(body["ApproximateCreationDateTime"].timestamp() - time.time()) < 60
        assert "userIdentity" not in record
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    dynamodb.delete_table(TableName=name)


def test_writes_that_change_nothing_make_no_record(endpoint: Endpoint, dynamodb: Any,
                                                   streams: Any) -> None:
    name, arn = stream_table(dynamodb)
    item = {"p": {"S": "same"}, "a": {"S": "x"}}
    dynamodb.put_item(TableName=name, Item=item)
    dynamodb.put_item(TableName=name, Item=item)  # identical
    dynamodb.update_item(TableName=name, Key={"p": {"S": "same"}}, UpdateExpression="SET a = :a",
                         ExpressionAttributeValues={":a": {"S": "x"}})  # sets what is there
    dynamodb.delete_item(TableName=name, Key={"p": {"S": "missing"}})  # nothing to delete
    dynamodb.update_item(TableName=name, Key={"p": {"S": "missing"}},
                         UpdateExpression="REMOVE a")  # creates nothing
    settle(endpoint)
    assert summary(read_all(streams, arn)) == [("INSERT", "same")]
    dynamodb.delete_table(TableName=name)


def test_batch_writes_and_sort_keys(endpoint: Endpoint, dynamodb: Any, streams: Any) -> None:
    name, arn = stream_table(dynamodb, "KEYS_ONLY", sort_key=True)
    dynamodb.batch_write_item(RequestItems={name: [
        {"PutRequest": {"Item": {"p": {"S": f"b{i}"}, "c": {"N": str(i)}}}} for i in range(10)]})
    dynamodb.batch_write_item(RequestItems={name: [
        {"DeleteRequest": {"Key": {"p": {"S": f"b{i}"}, "c": {"N": str(i)}}}}
        for i in range(5)]})
    settle(endpoint)
    records = read_all(streams, arn)
    assert sorted(summary(records)) == sorted(
        [("INSERT", f"b{i}") for i in range(10)] + [("REMOVE", f"b{i}") for i in range(5)])
    for record in records:
        assert set(record["dynamodb"]["Keys"]) == {"p", "c"}
    dynamodb.delete_table(TableName=name)


def test_changes_of_one_item_are_in_one_shard_in_order(endpoint: Endpoint, dynamodb: Any,
                                                       streams: Any) -> None:
    name, arn = stream_table(dynamodb, "NEW_IMAGE")
    for i in range(20):
        dynamodb.put_item(TableName=name, Item={"p": {"S": f"item{i % 4}"}, "n": {"N": str(i)}})
    settle(endpoint)
    per_shard: dict[str, set[str]] = {}
    values: dict[str, list[int]] = {}
    for shard in shards_of(streams, arn):
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for record in read_shard(streams, iterator):
            key = record["dynamodb"]["Keys"]["p"]["S"]
            per_shard.setdefault(key, set()).add(shard["ShardId"])
            values.setdefault(key, []).append(int(record["dynamodb"]["NewImage"]["n"]["N"]))
    assert all(len(shards) == 1 for shards in per_shard.values())
    assert values == {f"item{k}": list(range(k, 20, 4)) for k in range(4)}
    dynamodb.delete_table(TableName=name)


def test_a_table_with_an_index_and_a_stream(endpoint: Endpoint, dynamodb: Any,
                                            streams: Any) -> None:
    name = create_table(
        dynamodb, [("p", "HASH", "S")],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    dynamodb.update_table(
        TableName=name, AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[{"Create": {
            "IndexName": "byg", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}}])
    arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    dynamodb.put_item(TableName=name, Item={"p": {"S": "i"}, "g": {"S": "one"}})
    dynamodb.put_item(TableName=name, Item={"p": {"S": "i"}, "g": {"S": "two"}})
    settle(endpoint)
    assert summary(read_all(streams, arn)) == [("INSERT", "i"), ("MODIFY", "i")]
    dynamodb.delete_table(TableName=name)


def test_time_to_live_deletions_are_the_service_s(endpoint: Endpoint, dynamodb: Any,
                                                  streams: Any) -> None:
    name, arn = stream_table(dynamodb, "OLD_IMAGE")
    dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expires"})
    past = str(int(time.time()) - 60)
    dynamodb.put_item(TableName=name, Item={"p": {"S": "old"}, "expires": {"N": past}})
    dynamodb.put_item(TableName=name, Item={"p": {"S": "mine"}})
    dynamodb.delete_item(TableName=name, Key={"p": {"S": "mine"}})
    deadline = time.time() + 30  # the test servers' expiry service runs every second
    while "Item" in dynamodb.get_item(TableName=name, Key={"p": {"S": "old"}}):
        assert time.time() < deadline, "the expired item was not deleted"
        time.sleep(0.3)
    settle(endpoint)
    removals = {r["dynamodb"]["Keys"]["p"]["S"]: r for r in read_all(streams, arn)
                if r["eventName"] == "REMOVE"}
    assert removals["old"]["userIdentity"] == {"Type": "Service",
                                               "PrincipalId": "dynamodb.amazonaws.com"}
    assert removals["old"]["dynamodb"]["OldImage"]["expires"] == {"N": past}
    assert "userIdentity" not in removals["mine"]
    dynamodb.delete_table(TableName=name)


# --- iterators and paging ---------------------------------------------------------------------


def _records_of_item(endpoint: Endpoint, dynamodb: Any, streams: Any, count: int,
                     ) -> tuple[str, str, str, list[dict[str, Any]]]:
    """A stream table with ``count`` changes of one item; (table, arn, its shard, records)."""
    name, arn = stream_table(dynamodb, "NEW_IMAGE")
    for i in range(count):
        dynamodb.put_item(TableName=name, Item={"p": {"S": "one"}, "n": {"N": str(i)}})
    settle(endpoint)
    for shard in shards_of(streams, arn):
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = read_shard(streams, iterator)
        if records:
            return name, arn, shard["ShardId"], records
    raise AssertionError("no records")


def test_sequence_number_iterators(endpoint: Endpoint, dynamodb: Any, streams: Any) -> None:
    name, arn, shard, records = _records_of_item(endpoint, dynamodb, streams, 5)
    third = records[2]["dynamodb"]["SequenceNumber"]

    def from_(kind: str) -> list[str]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                              ShardIteratorType=kind,
                                              SequenceNumber=third)["ShardIterator"]
        return [r["dynamodb"]["NewImage"]["n"]["N"] for r in read_shard(streams, iterator)]

    assert from_("AT_SEQUENCE_NUMBER") == ["2", "3", "4"]
    assert from_("AFTER_SEQUENCE_NUMBER") == ["3", "4"]
    dynamodb.delete_table(TableName=name)


def test_latest_reads_only_later_changes(endpoint: Endpoint, dynamodb: Any,
                                         streams: Any) -> None:
    name, arn, shard, _ = _records_of_item(endpoint, dynamodb, streams, 2)
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="LATEST")["ShardIterator"]
    page = streams.get_records(ShardIterator=iterator)
    assert page["Records"] == []
    dynamodb.put_item(TableName=name, Item={"p": {"S": "one"}, "n": {"N": "100"}})
    settle(endpoint)
    records = read_shard(streams, page["NextShardIterator"])
    assert [r["dynamodb"]["NewImage"]["n"]["N"] for r in records] == ["100"]
    dynamodb.delete_table(TableName=name)


def test_get_records_pages_by_limit(endpoint: Endpoint, dynamodb: Any, streams: Any) -> None:
    name, arn, shard, records = _records_of_item(endpoint, dynamodb, streams, 7)
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    pages = []
    for _ in range(4):
        page = streams.get_records(ShardIterator=iterator, Limit=2)
        pages.append([r["dynamodb"]["NewImage"]["n"]["N"] for r in page["Records"]])
        iterator = page["NextShardIterator"]
    assert pages == [["0", "1"], ["2", "3"], ["4", "5"], ["6"]]
    assert [r["dynamodb"]["SequenceNumber"] for r in records] == sorted(
        r["dynamodb"]["SequenceNumber"] for r in records)
    dynamodb.delete_table(TableName=name)


def test_describe_stream_pages_shards(dynamodb: Any, streams: Any) -> None:
    name, arn = stream_table(dynamodb)
    everything = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert everything["StreamStatus"] == "ENABLED"
    assert everything["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert everything["TableName"] == name
    assert everything["KeySchema"] == [{"AttributeName": "p", "KeyType": "HASH"}]
    assert "LastEvaluatedShardId" not in everything
    paged, start = [], {}
    while True:
        desc = streams.describe_stream(StreamArn=arn, Limit=1, **start)["StreamDescription"]
        assert len(desc["Shards"]) == 1
        paged += desc["Shards"]
        if "LastEvaluatedShardId" not in desc:
            break
        start = {"ExclusiveStartShardId": desc["LastEvaluatedShardId"]}
    assert paged == everything["Shards"] and len(paged) >= 1
    for shard in paged:
        assert shard["ShardId"].startswith("shardId-")
        assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]
    dynamodb.delete_table(TableName=name)


def test_list_streams_filters_and_pages(dynamodb: Any, streams: Any) -> None:
    tables = [stream_table(dynamodb) for _ in range(3)]
    name, arn = tables[0]
    assert streams.list_streams(TableName=name)["Streams"] == [
        {"StreamArn": arn, "TableName": name, "StreamLabel": arn.rsplit("/", 1)[1]}]
    seen, start = [], {}
    while True:
        page = streams.list_streams(Limit=1, **start)
        assert len(page["Streams"]) <= 1
        seen += [s["StreamArn"] for s in page["Streams"]]
        if "LastEvaluatedStreamArn" not in page:
            break
        start = {"ExclusiveStartStreamArn": page["LastEvaluatedStreamArn"]}
    assert {arn for _, arn in tables} <= set(seen)
    assert len(seen) == len(set(seen))
    for table, _ in tables:
        dynamodb.delete_table(TableName=table)


def test_disable_closes_and_reenable_starts_a_new_stream(endpoint: Endpoint, dynamodb: Any,
                                                          streams: Any) -> None:
    name, old_arn = stream_table(dynamodb, "KEYS_ONLY")
    dynamodb.put_item(TableName=name, Item={"p": {"S": "before"}})
    dynamodb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    assert "StreamSpecification" not in dynamodb.describe_table(TableName=name)["Table"]
    dynamodb.put_item(TableName=name, Item={"p": {"S": "while-off"}})
    time.sleep(1.2)  # the time window passes: every shard of the old stream has ended
    desc = streams.describe_stream(StreamArn=old_arn)["StreamDescription"]
    assert desc["StreamStatus"] == "DISABLED"
    for shard in desc["Shards"]:
        assert "EndingSequenceNumber" in shard["SequenceNumberRange"]
        iterator = streams.get_shard_iterator(StreamArn=old_arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator is not None:  # a closed shard ends: no NextShardIterator at its end
            page = streams.get_records(ShardIterator=iterator)
            iterator = page.get("NextShardIterator")
    assert summary(read_all(streams, old_arn)) == [("INSERT", "before")]
    time.sleep(1.1)  # the next stream's label (a millisecond timestamp) differs
    dynamodb.update_table(TableName=name, StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    table = dynamodb.describe_table(TableName=name)["Table"]
    new_arn = table["LatestStreamArn"]
    assert new_arn != old_arn
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    dynamodb.put_item(TableName=name, Item={"p": {"S": "after"}})
    settle(endpoint)
    assert summary(read_all(streams, new_arn)) == [("INSERT", "after")]
    assert summary(read_all(streams, old_arn)) == [("INSERT", "before")]  # still readable
    listed = {s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]}
    assert listed == {old_arn, new_arn}
    dynamodb.delete_table(TableName=name)


# --- errors -----------------------------------------------------------------------------------


def test_stream_errors(endpoint: Endpoint, dynamodb: Any, streams: Any) -> None:
    name, arn = stream_table(dynamodb)
    shard = shards_of(streams, arn)[0]["ShardId"]
    missing = arn.rsplit("/", 1)[0] + "/2000-01-01T00:00:00.000"
    cases = [
        (lambda: streams.describe_stream(StreamArn=missing), "ResourceNotFoundException"),
        (lambda: streams.get_shard_iterator(StreamArn=missing, ShardId=shard,
                                            ShardIteratorType="LATEST"),
         "ResourceNotFoundException"),
        (lambda: streams.get_shard_iterator(StreamArn=arn, ShardId="shardId-00000000000000000"
                                            "001-00000000", ShardIteratorType="LATEST"),
         "ResourceNotFoundException"),
        (lambda: streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                            ShardIteratorType="AT_SEQUENCE_NUMBER",
                                            SequenceNumber="12345678901234567890123"),
         "ValidationException"),
        (lambda: streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                            SequenceNumber="not-a-number-at-all-xx"),
         "ValidationException"),
        (lambda: streams.get_records(ShardIterator="x" * 100), "ValidationException"),
        (lambda: streams.describe_stream(
            StreamArn="arn:aws:dynamodb:us-east-1:000000000000:nothing-here"),
         "ValidationException"),
    ]
    for call, code in cases:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc)[0] == code
    dynamodb.delete_table(TableName=name)
    with pytest.raises(ClientError) as exc:
        streams.describe_stream(StreamArn=arn)
    assert error_of(exc)[0] == "ResourceNotFoundException"


def test_get_records_limit_bounds(endpoint: Endpoint, dynamodb: Any, streams: Any) -> None:
    raw = streams_client(endpoint, validate=False)
    name, arn = stream_table(dynamodb)
    shard = shards_of(streams, arn)[0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="LATEST")["ShardIterator"]
    for limit in (0, 1001):
        with pytest.raises(ClientError) as exc:
            raw.get_records(ShardIterator=iterator, Limit=limit)
        assert error_of(exc)[0] == "ValidationException"
    dynamodb.delete_table(TableName=name)


# --- expiry of iterators and trimming: a server with short lifetimes ---------------------------

SHORT = StreamsConfig(time_window=0.5, retention=5.0, iterator_lifetime=2.0,
                      shard_period=1.0, shards=2)


@pytest.fixture(scope="module")
def short_lived(endpoint: Endpoint, tmp_path_factory: pytest.TempPathFactory,
                ) -> Iterator[tuple[Any, Any]]:
    """A server of the endpoint's backend whose iterators expire after 2 s, records after 5 s,
    with a new shard generation every second."""
    if endpoint.backend == "cassandra":
        config = Config(port=0, https_port=None, backend="cassandra",
                        cassandra=cassandra_config(),
                        write_isolation=WriteIsolation.ONLY_RMW_USES_LWT, streams=SHORT)
        access, secret = endpoint.access_key, endpoint.secret_key
    elif endpoint.backend == "sqlite":
        path = str(tmp_path_factory.mktemp("streams") / "short.db")
        config = Config(port=0, https_port=None, sqlite_path=path, streams=SHORT)
        access, secret = "alternator", sqlite_superuser(path)
    else:
        pytest.skip("needs its own server")
    thread = ServerThread(config)
    url = thread.start()
    local = Endpoint(endpoint.backend, url, access, secret)
    yield local.client(), streams_client(local)
    thread.stop()


def test_iterators_expire(short_lived: tuple[Any, Any]) -> None:
    dynamodb, streams = short_lived
    name, arn = stream_table(dynamodb)
    shard = shards_of(streams, arn)[-1]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    streams.get_records(ShardIterator=iterator)
    time.sleep(2.2)
    with pytest.raises(ClientError) as exc:
        streams.get_records(ShardIterator=iterator)
    assert error_of(exc) == ("ExpiredIteratorException",
                             "The provided iterator exceeds the maximum age allowed.")
    dynamodb.delete_table(TableName=name)


def test_shards_roll_over_with_lineage_and_trim(short_lived: tuple[Any, Any]) -> None:
    dynamodb, streams = short_lived
    name, arn = stream_table(dynamodb, "NEW_IMAGE")
    written = time.time()
    for i in range(6):
        dynamodb.put_item(TableName=name, Item={"p": {"S": "one"}, "n": {"N": str(i)}})
        time.sleep(0.4)
    time.sleep(0.6)
    shards = shards_of(streams, arn)
    ids = {s["ShardId"] for s in shards}
    closed = [s for s in shards if "EndingSequenceNumber" in s["SequenceNumberRange"]]
    assert closed, "generations of one second have ended"
    assert any(s.get("ParentShardId") in ids for s in shards), "children name their parents"
    records = read_all(streams, arn)  # parents first: the item's changes in order
    assert [r["dynamodb"]["NewImage"]["n"]["N"] for r in records] == [str(i) for i in range(6)]
    first = records[0]["dynamodb"]["SequenceNumber"]
    time.sleep(max(0.0, written + 6.5 - time.time()))  # the first record is past retention
    remaining = shards_of(streams, arn)
    assert remaining, "the current generation's shards are listed"
    assert all(int(s["SequenceNumberRange"]["StartingSequenceNumber"]) > int(first)
               for s in remaining), "trimmed shards are no longer listed"
    with pytest.raises(ClientError) as exc:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shards[0]["ShardId"],
                                   ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=first)
    assert error_of(exc)[0] in ("TrimmedDataAccessException", "ResourceNotFoundException")
    dynamodb.delete_table(TableName=name)


def test_a_reader_left_behind_the_trim_horizon(short_lived: tuple[Any, Any]) -> None:
    dynamodb, streams = short_lived
    name, arn = stream_table(dynamodb)
    written = time.time()
    dynamodb.put_item(TableName=name, Item={"p": {"S": new_key()}})
    time.sleep(0.7)
    found = [(shard["ShardId"], records[0]["dynamodb"]["SequenceNumber"])
             for shard in shards_of(streams, arn)
             for records in [read_shard(streams, streams.get_shard_iterator(
                 StreamArn=arn, ShardId=shard["ShardId"],
                 ShardIteratorType="TRIM_HORIZON")["ShardIterator"])] if records]
    assert len(found) == 1
    shard, sequence = found[0]
    time.sleep(written + 4.2 - time.time())  # within the 5 s retention still
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          SequenceNumber=sequence)["ShardIterator"]
    time.sleep(written + 5.3 - time.time())  # the iterator is valid, its position trimmed
    with pytest.raises(ClientError) as exc:
        streams.get_records(ShardIterator=iterator)
    assert error_of(exc)[0] == "TrimmedDataAccessException"
    dynamodb.delete_table(TableName=name)
