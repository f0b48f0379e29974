"""Authentication (SigV4 against role secrets) and authorization (CQL permissions)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from conftest import Endpoint, create_table, signed_headers
from roles import Roles
from test_http import dynamodb_call, error_code


@pytest.fixture(scope="module")
def roles(endpoint: Endpoint) -> Iterator[Roles]:
    manager = Roles(endpoint)
    yield manager
    manager.close()


def as_role(endpoint: Endpoint, access_key: str, secret: str) -> Any:
    return Endpoint(endpoint.backend, endpoint.url, access_key, secret).client()


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


LIST = "DynamoDB_20120810.ListTables"


def test_unsigned_request_is_refused(endpoint: Endpoint) -> None:
    status, body = dynamodb_call(endpoint, LIST, b"{}", sign=False)
    assert status == 400
    assert error_code(body) == "MissingAuthenticationTokenException"
    assert body["Message"] == "Request is missing Authentication Token"


def test_signed_request_passes(endpoint: Endpoint) -> None:
    status, body = dynamodb_call(endpoint, LIST, b"{}")
    assert status == 200, body


def test_wrong_secret(endpoint: Endpoint) -> None:
    client = as_role(endpoint, endpoint.access_key, endpoint.secret_key + "x")
    with pytest.raises(ClientError) as exc:
        client.list_tables()
    assert code_of(exc) == "InvalidSignatureException"


def test_unknown_user(endpoint: Endpoint) -> None:
    client = as_role(endpoint, "nosuchrole", "whatever")
    with pytest.raises(ClientError) as exc:
        client.list_tables()
    assert code_of(exc) == "UnrecognizedClientException"
    assert exc.value.response["Error"]["Message"] == (
        "The security token included in the request is invalid.")


def test_role_that_cannot_log_in(endpoint: Endpoint, roles: Roles) -> None:
    name, secret = roles.create(login=False)
    with pytest.raises(ClientError) as exc:
        as_role(endpoint, name, secret).list_tables()
    assert code_of(exc) == "UnrecognizedClientException"


@pytest.mark.parametrize("skew", [timedelta(minutes=16), timedelta(minutes=-16)])
def test_request_dated_outside_15_minutes(endpoint: Endpoint, skew: timedelta) -> None:
    when = datetime.now(UTC) + skew
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        headers = signed_headers(endpoint, b"{}", {"X-Amz-Target": LIST,
                                                   "Content-Type": "application/x-amz-json-1.0"})
    from test_http import request

    status, data = request(endpoint, "POST", "/", b"{}", headers)
    body = json.loads(data)
    assert status == 400
    assert error_code(body) == "InvalidSignatureException"
    assert "Signature" in body["Message"]


def _signed(endpoint: Endpoint, body: bytes) -> dict[str, str]:
    return signed_headers(endpoint, body, {"X-Amz-Target": LIST,
                                           "Content-Type": "application/x-amz-json-1.0"})


def test_tampered_body(endpoint: Endpoint) -> None:
    from test_http import request

    headers = _signed(endpoint, b'{"Limit": 5}')
    status, data = request(endpoint, "POST", "/", b'{"Limit": 6}', headers)
    assert status == 400
    assert error_code(json.loads(data)) == "InvalidSignatureException"


def test_tampered_signed_header(endpoint: Endpoint) -> None:
    from test_http import request

    headers = _signed(endpoint, b"{}")
    headers["X-Amz-Target"] = "DynamoDB_20120810.DeleteTable"
    status, data = request(endpoint, "POST", "/", b"{}", headers)
    assert status == 400
    assert error_code(json.loads(data)) == "InvalidSignatureException"


def test_wrong_service_scope(endpoint: Endpoint) -> None:
    from test_http import request

    headers = _signed(endpoint, b"{}")
    headers["Authorization"] = headers["Authorization"].replace("/dynamodb/", "/s3/")
    status, data = request(endpoint, "POST", "/", b"{}", headers)
    assert status == 400
    assert error_code(json.loads(data)) in ("InvalidSignatureException",
                                            "IncompleteSignatureException")


def test_host_must_be_signed(endpoint: Endpoint) -> None:
    from test_http import request

    headers = _signed(endpoint, b"{}")
    auth = headers["Authorization"]
    headers["Authorization"] = auth.replace("SignedHeaders=content-type;host;", "SignedHeaders="
                                            "content-type;")
    assert headers["Authorization"] != auth
    status, data = request(endpoint, "POST", "/", b"{}", headers)
    assert status == 400
    assert error_code(json.loads(data)) in ("InvalidSignatureException",
                                            "IncompleteSignatureException")


def test_changed_password_takes_effect(endpoint: Endpoint, roles: Roles) -> None:
    name, secret = roles.create(superuser=True)
    as_role(endpoint, name, secret).list_tables()
    new_secret = roles.set_password(name)
    roles.settle()
    with pytest.raises(ClientError) as exc:
        as_role(endpoint, name, secret).list_tables()
    assert code_of(exc) == "InvalidSignatureException"
    as_role(endpoint, name, new_secret).list_tables()


# --- authorization ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def auth_table(dynamodb: Any) -> Iterator[str]:
    name = create_table(dynamodb, [("p", "HASH", "S")])
    dynamodb.put_item(TableName=name, Item={"p": {"S": "k"}, "secret": {"S": "v"}})
    yield name
    dynamodb.delete_table(TableName=name)


def test_no_permissions_no_access(endpoint: Endpoint, roles: Roles, auth_table: str) -> None:
    name, secret = roles.create()
    client = as_role(endpoint, name, secret)
    with pytest.raises(ClientError) as exc:
        client.get_item(TableName=auth_table, Key={"p": {"S": "k"}})
    assert code_of(exc) == "AccessDeniedException"
    assert "SELECT" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        client.put_item(TableName=auth_table, Item={"p": {"S": "x"}})
    assert code_of(exc) == "AccessDeniedException"
    assert "MODIFY" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        client.delete_table(TableName=auth_table)
    assert code_of(exc) == "AccessDeniedException"
    with pytest.raises(ClientError) as exc:
        create_table(client, [("p", "HASH", "S")])
    assert code_of(exc) == "AccessDeniedException"


def test_select_grant_allows_reads_only(endpoint: Endpoint, roles: Roles, auth_table: str) -> None:
    name, secret = roles.create()
    roles.grant("SELECT", name, auth_table)
    client = as_role(endpoint, name, secret)
    assert client.get_item(TableName=auth_table, Key={"p": {"S": "k"}})["Item"]["secret"]
    with pytest.raises(ClientError) as exc:
        client.put_item(TableName=auth_table, Item={"p": {"S": "x"}})
    assert code_of(exc) == "AccessDeniedException"


def test_permissions_through_granted_role(endpoint: Endpoint, roles: Roles,
                                          auth_table: str) -> None:
    writer, _ = roles.create(login=False)
    roles.grant("MODIFY", writer, auth_table)
    name, secret = roles.create()
    roles.grant_role(writer, name)
    as_role(endpoint, name, secret).put_item(TableName=auth_table,
                                             Item={"p": {"S": "via-role"}})


def test_creator_may_use_and_drop_its_table(endpoint: Endpoint, roles: Roles) -> None:
    name, secret = roles.create()
    roles.grant("CREATE", name)
    client = as_role(endpoint, name, secret)
    table = create_table(client, [("p", "HASH", "S")])
    client.put_item(TableName=table, Item={"p": {"S": "mine"}})
    assert client.get_item(TableName=table, Key={"p": {"S": "mine"}})["Item"]
    client.delete_table(TableName=table)


def test_dropping_a_table_revokes_its_creators_permissions(endpoint: Endpoint, dynamodb: Any,
                                                           roles: Roles) -> None:
    """A role that created and dropped a table has no rights on the next table of that name
    (as CQL revokes permissions on a dropped table); the embedded backend kept them."""
    name, secret = roles.create()
    roles.grant("CREATE", name)
    client = as_role(endpoint, name, secret)
    table = create_table(client, [("p", "HASH", "S")])
    client.delete_table(TableName=table)
    dynamodb.get_waiter("table_not_exists").wait(TableName=table,
                                                 WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    dynamodb.create_table(TableName=table, KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    try:
        dynamodb.put_item(TableName=table, Item={"p": {"S": "k"}, "secret": {"S": "theirs"}})
        roles.settle()
        with pytest.raises(ClientError) as exc:
            client.get_item(TableName=table, Key={"p": {"S": "k"}})
        assert code_of(exc) == "AccessDeniedException"
        with pytest.raises(ClientError) as exc:
            client.delete_table(TableName=table)
        assert code_of(exc) == "AccessDeniedException"
    finally:
        dynamodb.delete_table(TableName=table)


def test_superuser_may_do_everything(endpoint: Endpoint, roles: Roles, auth_table: str) -> None:
    name, secret = roles.create(superuser=True)
    client = as_role(endpoint, name, secret)
    client.put_item(TableName=auth_table, Item={"p": {"S": "su"}})
    assert client.get_item(TableName=auth_table, Key={"p": {"S": "su"}})["Item"]


def test_index_reads_need_the_tables_select(endpoint: Endpoint, roles: Roles,
                                            dynamodb: Any) -> None:
    """Query and Scan of an index are reads of its table; creating an index alters it."""
    table = create_table(dynamodb, [("p", "HASH", "S"), ("g", "RANGE", "S")],
                         LocalSecondaryIndexes=[{
                             "IndexName": "by_g", "Projection": {"ProjectionType": "ALL"},
                             "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"},
                                           {"AttributeName": "g", "KeyType": "RANGE"}]}])
    try:
        dynamodb.put_item(TableName=table, Item={"p": {"S": "k"}, "g": {"S": "v"}})
        name, secret = roles.create()
        client = as_role(endpoint, name, secret)
        query = {"TableName": table, "IndexName": "by_g", "KeyConditionExpression": "p = :p",
                 "ExpressionAttributeValues": {":p": {"S": "k"}}}
        for call in (lambda: client.query(**query),
                     lambda: client.scan(TableName=table, IndexName="by_g")):
            with pytest.raises(ClientError) as exc:
                call()
            assert code_of(exc) == "AccessDeniedException"
            assert "SELECT" in exc.value.response["Error"]["Message"]
        with pytest.raises(ClientError) as exc:
            client.update_table(
                TableName=table,
                AttributeDefinitions=[{"AttributeName": "h", "AttributeType": "S"}],
                GlobalSecondaryIndexUpdates=[{"Create": {
                    "IndexName": "by_h", "Projection": {"ProjectionType": "KEYS_ONLY"},
                    "KeySchema": [{"AttributeName": "h", "KeyType": "HASH"}]}}])
        assert code_of(exc) == "AccessDeniedException"
        assert "ALTER" in exc.value.response["Error"]["Message"]
        roles.grant("SELECT", name, table)
        assert client.query(**query)["Count"] == 1
        assert client.scan(TableName=table, IndexName="by_g")["Count"] == 1
    finally:
        dynamodb.delete_table(TableName=table)


def test_stream_reads_need_the_tables_select(endpoint: Endpoint, roles: Roles,
                                             dynamodb: Any) -> None:
    """DescribeStream, GetShardIterator and GetRecords read the table; enabling a stream
    alters it."""
    import boto3

    table = create_table(dynamodb, [("p", "HASH", "S")], StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    try:
        arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        admin = boto3.client("dynamodbstreams", endpoint_url=endpoint.url,
                             region_name="us-east-1", aws_access_key_id=endpoint.access_key,
                             aws_secret_access_key=endpoint.secret_key)
        shard = admin.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = admin.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                            ShardIteratorType="LATEST")["ShardIterator"]
        name, secret = roles.create()
        streams = boto3.client("dynamodbstreams", endpoint_url=endpoint.url,
                               region_name="us-east-1", aws_access_key_id=name,
                               aws_secret_access_key=secret)
        for call in (lambda: streams.describe_stream(StreamArn=arn),
                     lambda: streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                        ShardIteratorType="LATEST"),
                     lambda: streams.get_records(ShardIterator=iterator)):
            with pytest.raises(ClientError) as exc:
                call()
            assert code_of(exc) == "AccessDeniedException"
            assert "SELECT" in exc.value.response["Error"]["Message"]
        with pytest.raises(ClientError) as exc:
            as_role(endpoint, name, secret).update_table(
                TableName=table, StreamSpecification={"StreamEnabled": False})
        assert code_of(exc) == "AccessDeniedException"
        roles.grant("SELECT", name, table)
        assert streams.get_records(ShardIterator=iterator)["Records"] == []
    finally:
        dynamodb.delete_table(TableName=table)
