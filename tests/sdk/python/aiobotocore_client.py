"""aiobotocore against alternator, as an asyncio application uses it: botocore's waiters and
paginators, awaited. Run by tests/test_sdk_clients.py with ALTERNATOR_ENDPOINT,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and ALTERNATOR_TABLE set (and AWS_CA_BUNDLE over
HTTPS). Prints "ok" when all passed.
"""

import asyncio
import os
from typing import Any

# [docs:begin]
from aiobotocore.session import get_session


def connect() -> Any:
    # Over HTTPS, botocore trusts the server's CA through AWS_CA_BUNDLE=<state dir>/serving-ca.crt
    # (or verify="/path/serving-ca.crt" here).
    return get_session().create_client(
        "dynamodb",
        endpoint_url=os.environ["ALTERNATOR_ENDPOINT"],  # e.g. http://127.0.0.1:8000
        region_name="us-east-1",  # any region: requests are signed for it
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],  # a role name, e.g. alternator
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],  # `alternator role secret`
    )
# [docs:end]


async def conditional_check_fails(call: Any) -> None:
    try:
        await call
    except Exception as error:
        assert type(error).__name__ == "ConditionalCheckFailedException", error
    else:
        raise AssertionError("the condition held")


async def main() -> None:
    table = os.environ["ALTERNATOR_TABLE"]
    waiting = {"Delay": 1, "MaxAttempts": 120}
    async with connect() as client:
        # Table life cycle, with the waiters.
        created = await client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                       {"AttributeName": "c", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                  {"AttributeName": "c", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST")
        assert created["ResponseMetadata"]["RequestId"]
        await client.get_waiter("table_exists").wait(TableName=table, WaiterConfig=waiting)

        # Items, with conditions.
        item = {"p": {"S": "solo"}, "c": {"N": "1"}, "n": {"N": "0"}}
        await client.put_item(TableName=table, Item=item,
                              ConditionExpression="attribute_not_exists(p)")
        await conditional_check_fails(client.put_item(
            TableName=table, Item=item, ConditionExpression="attribute_not_exists(p)"))
        updated = await client.update_item(
            TableName=table, Key={"p": {"S": "solo"}, "c": {"N": "1"}},
            UpdateExpression="SET n = n + :one", ConditionExpression="n = :zero",
            ExpressionAttributeValues={":one": {"N": "1"}, ":zero": {"N": "0"}},
            ReturnValues="ALL_NEW")
        assert updated["Attributes"]["n"] == {"N": "1"}

        # Batches, written concurrently.
        writes = [{"PutRequest": {"Item": {"p": {"S": "many"}, "c": {"N": str(c)}}}}
                  for c in range(10)]
        results = await asyncio.gather(
            client.batch_write_item(RequestItems={table: writes[:5]}),
            client.batch_write_item(RequestItems={table: writes[5:]}))
        assert all(not result["UnprocessedItems"] for result in results)
        keys = [{"p": {"S": "many"}, "c": {"N": "3"}}, {"p": {"S": "solo"}, "c": {"N": "1"}}]
        batch = await client.batch_get_item(RequestItems={table: {"Keys": keys}})
        assert len(batch["Responses"][table]) == 2

        # Query and Scan, a page at a time.
        sort_keys, pages = [], 0
        async for page in client.get_paginator("query").paginate(
                TableName=table, KeyConditionExpression="p = :p",
                ExpressionAttributeValues={":p": {"S": "many"}},
                PaginationConfig={"PageSize": 3}):
            pages += 1
            sort_keys += [int(row["c"]["N"]) for row in page["Items"]]
        assert sort_keys == list(range(10)) and pages >= 4, (sort_keys, pages)
        scanned = 0
        async for page in client.get_paginator("scan").paginate(
                TableName=table, PaginationConfig={"PageSize": 4}):
            scanned += len(page["Items"])
        assert scanned == 11

        await conditional_check_fails(client.delete_item(
            TableName=table, Key={"p": {"S": "solo"}, "c": {"N": "1"}},
            ConditionExpression="n = :zero", ExpressionAttributeValues={":zero": {"N": "0"}}))
        await client.delete_table(TableName=table)
        await client.get_waiter("table_not_exists").wait(TableName=table, WaiterConfig=waiting)
    print("ok")


if __name__ == "__main__":
    asyncio.run(main())
