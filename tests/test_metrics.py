"""GET /metrics: ScyllaDB Alternator's metric names, with exact counts after known traffic.

Each test scrapes before and after its own traffic, on a table of its own, and compares the
differences (the server is shared with the rest of the suite). The exposition is read with
prometheus_client's own parser, as Prometheus would read it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from conftest import Endpoint, signed_headers

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def _table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                   {"AttributeName": "s", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                              {"AttributeName": "s", "AttributeType": "N"}])


def _keyspace(after: Samples, table: str) -> str:
    for name, labels in after:
        found = dict(labels)
        if name.startswith("scylla_alternator_table_") and found.get("cf") == table:
            return found["ks"]
    raise AssertionError(f"no per-table series for {table}")


def test_operations_capacity_and_per_table_series(endpoint: Endpoint, dynamodb: Any) -> None:
    assert endpoint.metrics_url is not None
    name = f"metrics_{uuid.uuid4().hex[:10]}"
    _table(dynamodb, name)
    before = scrape(endpoint.metrics_url)
    for i in range(3):
        dynamodb.put_item(TableName=name, Item={"p": {"S": "a"}, "s": {"N": str(i)},
                                                "x": {"N": str(i)}})
    dynamodb.get_item(TableName=name, Key={"p": {"S": "a"}, "s": {"N": "0"}})
    dynamodb.get_item(TableName=name, Key={"p": {"S": "a"}, "s": {"N": "9"}},
                      ConsistentRead=True)  # missing: still one unit
    with pytest.raises(ClientError):
        dynamodb.put_item(TableName=name, Item={"p": {"S": "a"}, "s": {"N": "0"}},
                          ConditionExpression="attribute_not_exists(p)")
    dynamodb.update_item(TableName=name, Key={"p": {"S": "a"}, "s": {"N": "1"}},
                         UpdateExpression="SET y = :y", ConditionExpression="x = :x",
                         ExpressionAttributeValues={":y": {"S": "z"}, ":x": {"N": "1"}})
    query = dynamodb.query(TableName=name, KeyConditionExpression="p = :p",
                           FilterExpression="x >= :one",
                           ExpressionAttributeValues={":p": {"S": "a"}, ":one": {"N": "1"}})
    assert query["Count"] == 2 and query["ScannedCount"] == 3
    dynamodb.scan(TableName=name)
    dynamodb.batch_write_item(RequestItems={name: [
        {"PutRequest": {"Item": {"p": {"S": "b"}, "s": {"N": str(i)}}}} for i in range(4)]})
    dynamodb.batch_get_item(RequestItems={name: {"Keys": [
        {"p": {"S": "b"}, "s": {"N": str(i)}} for i in range(3)]}})
    dynamodb.delete_item(TableName=name, Key={"p": {"S": "b"}, "s": {"N": "3"}})
    with pytest.raises(ClientError):
        dynamodb.get_item(TableName=name, Key={"p": {"S": "a"}})  # incomplete key
    after = scrape(endpoint.metrics_url)
    ks = _keyspace(after, name)
    expected_ops = {"PutItem": 4, "GetItem": 3, "UpdateItem": 1, "Query": 1, "Scan": 1,
                    "BatchWriteItem": 1, "BatchGetItem": 1, "DeleteItem": 1}
    for op, count in expected_ops.items():
        assert delta(before, after, "scylla_alternator_operation", op=op) == count, op
        assert delta(before, after, "scylla_alternator_op_latency_count", op=op) == count, op
        assert delta(before, after, "scylla_alternator_table_operation", ks=ks, cf=name,
                     op=op) == count, op
    total = sum(expected_ops.values())
    assert delta(before, after, "scylla_alternator_total_operations") == total
    assert delta(before, after, "scylla_alternator_table_total_operations", ks=ks,
                 cf=name) == total
    assert delta(before, after, "scylla_alternator_table_op_latency_count", ks=ks, cf=name,
                 op="PutItem") == 4
    # The update read first and wrote with LWT. The put conditional on absence: on SQLite it
    # only read (its condition was false); on Cassandra it was one LWT, unread
    # (docs/write-path.md#conditional-writes-in-one-round-trip).
    one_round_trip = endpoint.backend == "cassandra"
    expected = {"scylla_alternator_reads_before_write": 1 if one_round_trip else 2,
                "scylla_alternator_write_using_lwt": 2 if one_round_trip else 1}
    for metric, count in expected.items():
        assert delta(before, after, metric) == count, metric
        table_metric = metric.replace("scylla_alternator_", "scylla_alternator_table_")
        assert delta(before, after, table_metric, ks=ks, cf=name) == count, table_metric
    assert delta(before, after, "alternator_single_round_trip_writes") == int(one_round_trip)
    assert delta(before, after, "scylla_alternator_conditional_check_failed") == 1
    assert delta(before, after, "scylla_alternator_table_conditional_check_failed",
                 ks=ks, cf=name) == 1
    assert delta(before, after, "scylla_alternator_user_errors") == 1
    assert delta(before, after, "scylla_alternator_system_errors") == 0
    # Reads: 0.5 + 1 (GetItem) + 0.5 (Query) + 0.5 (Scan) + 3 x 0.5 (BatchGetItem).
    assert delta(before, after, "scylla_alternator_rcu_total") == 4.0
    assert delta(before, after, "scylla_alternator_table_rcu_total", ks=ks, cf=name) == 4.0
    # Writes of small items: one unit each.
    assert delta(before, after, "scylla_alternator_wcu_total", op="PutItem") == 3 + 4
    assert delta(before, after, "scylla_alternator_wcu_total", op="UpdateItem") == 1
    assert delta(before, after, "scylla_alternator_wcu_total", op="DeleteItem") == 1
    assert delta(before, after, "scylla_alternator_table_wcu_total", ks=ks, cf=name,
                 op="PutItem") == 7
    assert delta(before, after, "scylla_alternator_returned_items") == 2 + 3
    assert delta(before, after, "scylla_alternator_returned_items_histogram_count") == 2
    assert delta(before, after, "scylla_alternator_filtered_rows_read_total") == 3
    assert delta(before, after, "scylla_alternator_filtered_rows_matched_total") == 2
    assert delta(before, after, "scylla_alternator_filtered_rows_dropped_total") == 1
    assert delta(before, after, "scylla_alternator_batch_item_count", op="BatchWriteItem") == 4
    assert delta(before, after, "scylla_alternator_batch_item_count", op="BatchGetItem") == 3
    assert delta(before, after, "scylla_alternator_batch_item_count_histogram_count",
                 op="BatchGetItem") == 1
    # (The refused PutItem wrote nothing.)
    assert delta(before, after, "scylla_alternator_operation_size_kb_count", op="PutItem") == 3
    # The two GetItems that read waited for the backend (the refused one may have too, when
    # it had to load the table's schema).
    assert delta(before, after, "alternator_backend_latency_seconds_count", op="GetItem") in (2, 3)


def test_errors_and_unsupported_operations(endpoint: Endpoint, dynamodb: Any) -> None:
    assert endpoint.metrics_url is not None
    before = scrape(endpoint.metrics_url)
    with pytest.raises(ClientError):
        dynamodb.describe_table(TableName=f"missing_{uuid.uuid4().hex[:8]}")
    stranger = boto3.client("dynamodb", endpoint_url=endpoint.url, region_name="us-east-1",
                            aws_access_key_id="no-such-role", aws_secret_access_key="x",
                            config=BotoConfig(retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as refused:
        stranger.list_tables()
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
    body = b"{}"
    request = urllib.request.Request(endpoint.url, data=body, method="POST", headers=(
        signed_headers(endpoint, body, {"X-Amz-Target": "DynamoDB_20120810.NoSuchOperation",
                                        "Content-Type": "application/x-amz-json-1.0"})))
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=10)
    after = scrape(endpoint.metrics_url)
    assert delta(before, after, "scylla_alternator_operation", op="DescribeTable") == 1
    assert delta(before, after, "scylla_alternator_total_operations") == 3
    assert delta(before, after, "scylla_alternator_unsupported_operations") == 1
    assert delta(before, after, "alternator_authentication_failures") == 1
    # ResourceNotFound, UnrecognizedClient and UnknownOperation: all client errors.
    assert delta(before, after, "scylla_alternator_user_errors") == 3
    assert delta(before, after, "scylla_alternator_system_errors") == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_workers_share_one_scrape(store: tuple[list[str], tuple[str, str]]) -> None:
    """With --workers 2 the supervisor's /metrics sums both workers: the count of requests
    made over fresh connections (spread over the workers by the kernel) is exact."""
    args, (access_key, secret) = store
    port, metrics_port = _free_port(), _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "alternator", "serve", "--alternator-port", str(port),
         "--alternator-https-port", "none", "--workers", "2",
         "--prometheus-port", str(metrics_port), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                scrape(metrics_url)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        before = scrape(metrics_url)
        name = f"metrics_{uuid.uuid4().hex[:10]}"
        client = _client(url, access_key, secret)
        _table(client, name)
        client.get_waiter("table_exists").wait(TableName=name)
        for i in range(20):
            fresh = _client(url, access_key, secret)  # a new connection: either worker
            fresh.put_item(TableName=name, Item={"p": {"S": "w"}, "s": {"N": str(i)}})
        # Each worker hands its counts to the shared files once a second.
        deadline = time.monotonic() + 15
        after = scrape(metrics_url)
        while delta(before, after, "scylla_alternator_operation", op="PutItem") < 20 \
                and time.monotonic() < deadline:
            time.sleep(0.3)
            after = scrape(metrics_url)
        time.sleep(1.5)  # and nothing more arrives
        after = scrape(metrics_url)
        assert delta(before, after, "scylla_alternator_operation", op="PutItem") == 20
        assert delta(before, after, "scylla_alternator_wcu_total", op="PutItem") == 20
        ks = _keyspace(after, name)
        assert delta(before, after, "scylla_alternator_table_operation", ks=ks, cf=name,
                     op="PutItem") == 20
        client.delete_table(TableName=name)
    finally:
        process.terminate()
        process.wait(30)


def _client(url: str, access_key: str, secret: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=access_key, aws_secret_access_key=secret,
                        config=BotoConfig(retries={"max_attempts": 1}))


def test_every_documented_metric_is_exported(endpoint: Endpoint, dynamodb: Any) -> None:
    """docs/monitoring.md and the exposition agree: each metric the page lists is a family of
    the scrape (described even before it has a sample), and the page lists every family."""
    import pathlib
    import re

    assert endpoint.metrics_url is not None
    page = (pathlib.Path(__file__).parent.parent / "docs" / "monitoring.md").read_text()
    documented = set(re.findall(r"^\| `((?:scylla_)?alternator_[a-z_]+)`", page, re.M))
    with urllib.request.urlopen(endpoint.metrics_url, timeout=10) as response:
        text = response.read().decode()
    exported = {family.name for family in text_string_to_metric_families(text)}
    global_names = {n for n in exported if not n.startswith("scylla_alternator_table_")}
    assert documented == global_names
    per_table = {n.replace("scylla_alternator_table_", "scylla_alternator_")
                 for n in exported if n.startswith("scylla_alternator_table_")}
    assert per_table == {n for n in documented if n.startswith("scylla_alternator_")} - {
        "scylla_alternator_unsupported_operations"}


def test_authorization_failures_and_stream_records(endpoint: Endpoint, dynamodb: Any) -> None:
    from roles import Roles

    assert endpoint.metrics_url is not None
    name = f"metrics_{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    roles = Roles(endpoint)
    try:
        access_key, secret = roles.create()
        roles.settle()
        before = scrape(endpoint.metrics_url)
        stranger = Endpoint(endpoint.backend, endpoint.url, access_key, secret).client()
        with pytest.raises(ClientError) as denied:
            stranger.get_item(TableName=name, Key={"p": {"S": "x"}})
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
        dynamodb.put_item(TableName=name, Item={"p": {"S": "x"}})
        dynamodb.put_item(TableName=name, Item={"p": {"S": "x"}})  # unchanged: no record
        dynamodb.put_item(TableName=name, Item={"p": {"S": "y"}})
        after = scrape(endpoint.metrics_url)
    finally:
        roles.close()
    assert delta(before, after, "alternator_authorization_failures") == 1
    assert delta(before, after, "alternator_errors", op="GetItem",
                 error="AccessDeniedException") == 1
    assert delta(before, after, "alternator_stream_records") == 2
    # A stream table takes the versioned loop: every write read first and used LWT.
    assert delta(before, after, "scylla_alternator_reads_before_write") == 3


def test_background_services_are_counted(endpoint: Endpoint, dynamodb: Any) -> None:
    """The expiry service's work and the role cache's lookups reach the metrics (the test
    servers look for expired items every second)."""
    assert endpoint.metrics_url is not None
    name = f"metrics_{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
    dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expires"})
    before = scrape(endpoint.metrics_url)
    for key in ("a", "b"):
        # (Expired a minute ago: DynamoDB ignores expiry times more than five years old.)
        dynamodb.put_item(TableName=name, Item={"p": {"S": key},
                                                "expires": {"N": str(int(time.time()) - 60)}})
    deadline = time.monotonic() + 60
    while delta(before, scrape(endpoint.metrics_url), "alternator_expiry_items_deleted",
                table=name) < 2:
        assert time.monotonic() < deadline, "the expired items were not counted"
        time.sleep(0.5)
    after = scrape(endpoint.metrics_url)
    assert delta(before, after, "alternator_expiry_items_scanned", table=name) >= 2
    # Every signed request looked its role up (a hit, or a miss once the entry aged out).
    assert delta(before, after, "alternator_cache_lookups", result="hit") + \
        delta(before, after, "alternator_cache_lookups", result="miss") >= 2
    assert dynamodb.scan(TableName=name)["Count"] == 0
