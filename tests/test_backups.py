"""DescribeContinuousBackups, UpdateContinuousBackups and DescribeEndpoints, as tools call them."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from conftest import Endpoint


@pytest.fixture(scope="module")
def table(dynamodb: Any) -> str:
    name = f"backups_{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])
    return name


def test_describe_continuous_backups_says_disabled(dynamodb: Any, table: str) -> None:
    description = dynamodb.describe_continuous_backups(TableName=table)[
        "ContinuousBackupsDescription"]
    assert description == {
        "ContinuousBackupsStatus": "DISABLED",
        "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}


def test_describe_continuous_backups_by_arn(dynamodb: Any, table: str) -> None:
    arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    description = dynamodb.describe_continuous_backups(TableName=arn)
    assert description["ContinuousBackupsDescription"]["ContinuousBackupsStatus"] == "DISABLED"


def test_missing_table_is_table_not_found(dynamodb: Any) -> None:
    name = f"missing_{uuid.uuid4().hex[:8]}"
    for call in (lambda: dynamodb.describe_continuous_backups(TableName=name),
                 lambda: dynamodb.update_continuous_backups(
                     TableName=name, PointInTimeRecoverySpecification={
                         "PointInTimeRecoveryEnabled": False})):
        with pytest.raises(ClientError) as missing:
            call()
        error = missing.value.response["Error"]
        assert error["Code"] == "TableNotFoundException"
        assert error["Message"] == f"Table not found: {name}"
        assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_bad_table_name_is_validation_error(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as bad:
        dynamodb.describe_continuous_backups(TableName="a b")
    assert bad.value.response["Error"]["Code"] == "ValidationException"


def test_enabling_point_in_time_recovery_is_refused(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as refused:
        dynamodb.update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "not supported" in error["Message"]
    disabled = dynamodb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    assert disabled["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"] == {
        "PointInTimeRecoveryStatus": "DISABLED"}


def test_describe_endpoints_names_the_address_reached(endpoint: Endpoint, dynamodb: Any) -> None:
    endpoints = dynamodb.describe_endpoints()["Endpoints"]
    assert endpoints == [{"Address": urlsplit(endpoint.url).netloc,
                          "CachePeriodInMinutes": 1440}]
