"""ScyllaDB's load-balancing client (alternator-client on PyPI) against alternator: it finds
the nodes through /localnodes and spreads the requests of a boto3 client over them. Run by
tests/test_sdk_clients.py with ALTERNATOR_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
and ALTERNATOR_TABLE set (and ALTERNATOR_CA and AWS_CA_BUNDLE over HTTPS). Prints "ok" when
all passed.
"""

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# [docs:begin]
import alternator  # pip install alternator-client


def settings() -> tuple[alternator.Config, alternator.Auth]:
    url = urlsplit(os.environ["ALTERNATOR_ENDPOINT"])  # e.g. https://127.0.0.1:8043
    tls = alternator.TLS.system_default()
    if url.scheme == "https":
        # The client trusts this CA when it asks /localnodes; the boto3 client it makes needs
        # AWS_CA_BUNDLE=<state dir>/serving-ca.crt as well.
        tls = alternator.TLS.with_custom_ca(Path(os.environ["ALTERNATOR_CA"]))
    config = alternator.Config(seed_hosts=[url.hostname], port=url.port, scheme=url.scheme,
                               tls=tls, aws_region="us-east-1")
    # Credentials must be given: the client does not read AWS_ACCESS_KEY_ID and friends.
    auth = alternator.Auth.static_credentials(os.environ["AWS_ACCESS_KEY_ID"],
                                              os.environ["AWS_SECRET_ACCESS_KEY"])
    return config, auth


def connect() -> Any:
    config, auth = settings()
    return alternator.AlternatorClient(config, auth=auth)
# [docs:end]


def main() -> None:
    table = os.environ["ALTERNATOR_TABLE"]
    # The nodes come from /localnodes: here the one node the seed names.
    config, auth = settings()
    with alternator.Helper(config, auth=auth) as helper:
        assert helper.update_live_nodes(), "no answer from /localnodes"
        assert helper.get_nodes() == [urlsplit(os.environ["ALTERNATOR_ENDPOINT"]).hostname]
    with connect() as client:
        client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                       {"AttributeName": "c", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                  {"AttributeName": "c", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST")
        client.get_waiter("table_exists").wait(TableName=table,
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        item = {"p": {"S": "solo"}, "c": {"N": "1"}, "n": {"N": "0"}}
        client.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(p)")
        try:
            client.put_item(TableName=table, Item=item,
                            ConditionExpression="attribute_not_exists(p)")
            raise AssertionError("second conditional put succeeded")
        except client.exceptions.ConditionalCheckFailedException:
            pass
        client.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {"p": {"S": "many"}, "c": {"N": str(c)}}}}
            for c in range(10)]})
        batch = client.batch_get_item(RequestItems={table: {"Keys": [
            {"p": {"S": "many"}, "c": {"N": "3"}}, {"p": {"S": "solo"}, "c": {"N": "1"}}]}})
        assert len(batch["Responses"][table]) == 2
        pages = list(client.get_paginator("query").paginate(
            TableName=table, KeyConditionExpression="p = :p",
            ExpressionAttributeValues={":p": {"S": "many"}}, PaginationConfig={"PageSize": 3}))
        assert [int(row["c"]["N"]) for page in pages for row in page["Items"]] == list(range(10))
        assert len(pages) >= 4
        scanned = sum(len(page["Items"]) for page in client.get_paginator("scan").paginate(
            TableName=table, PaginationConfig={"PageSize": 4}))
        assert scanned == 11
        client.delete_table(TableName=table)
        client.get_waiter("table_not_exists").wait(TableName=table,
                                                   WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    print("ok")


if __name__ == "__main__":
    main()
