"""PynamoDB against alternator, as an application uses it: a Model class, its table created and
deleted with PynamoDB's own waiting, conditions on the model's attributes, paginated Query and
Scan, batch writes and gets. Run by tests/test_sdk_clients.py with ALTERNATOR_ENDPOINT,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and ALTERNATOR_TABLE set (and AWS_CA_BUNDLE over
HTTPS). Prints "ok" when all passed.
"""

import os

from pynamodb.exceptions import DeleteError, PutError, UpdateError

# [docs:begin]
from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.models import Model


class Row(Model):
    class Meta:
        table_name = os.environ["ALTERNATOR_TABLE"]
        host = os.environ["ALTERNATOR_ENDPOINT"]  # e.g. http://127.0.0.1:8000
        region = "us-east-1"  # any region: requests are signed for it
        # A role name and its secret (`alternator role secret NAME`); left out, PynamoDB takes
        # them from the environment as boto3 does. Over HTTPS, botocore trusts the server's
        # CA through AWS_CA_BUNDLE=<state dir>/serving-ca.crt.
        aws_access_key_id = os.environ["AWS_ACCESS_KEY_ID"]
        aws_secret_access_key = os.environ["AWS_SECRET_ACCESS_KEY"]
        billing_mode = "PAY_PER_REQUEST"

    p = UnicodeAttribute(hash_key=True)
    c = NumberAttribute(range_key=True)
    n = NumberAttribute(null=True)
    tags = UnicodeSetAttribute(null=True)
# [docs:end]


def expect_condition_failure(error: Exception) -> None:
    assert error.cause_response_code == "ConditionalCheckFailedException", error  # type: ignore[attr-defined]


def main() -> None:
    # Table life cycle: create_table(wait=True) polls DescribeTable until ACTIVE.
    Row.create_table(wait=True)
    assert Row.exists()

    # Items, with conditions.
    solo = Row("solo", 1, n=0, tags={"a", "b"})
    solo.save(condition=Row.p.does_not_exist())
    try:
        Row("solo", 1).save(condition=Row.p.does_not_exist())
        raise AssertionError("second conditional save succeeded")
    except PutError as error:
        expect_condition_failure(error)
    solo.update(actions=[Row.n.add(1)], condition=Row.n == 0)
    try:
        solo.update(actions=[Row.n.add(1)], condition=Row.n == 0)
        raise AssertionError("second conditional update succeeded")
    except UpdateError as error:
        expect_condition_failure(error)
    got = Row.get("solo", 1, consistent_read=True)
    assert got.n == 1 and got.tags == {"a", "b"}, got.attribute_values

    # Batches.
    with Row.batch_write() as batch:
        for c in range(10):
            batch.save(Row("many", c))
    fetched = list(Row.batch_get([("many", 3), ("many", 7), ("solo", 1)]))
    assert len(fetched) == 3

    # Query and Scan, a page at a time (PynamoDB follows LastEvaluatedKey).
    rows = Row.query("many", page_size=3)
    assert [row.c for row in rows] == list(range(10))
    assert rows.last_evaluated_key is None
    assert sum(1 for _ in Row.scan(page_size=4)) == 11

    try:
        got.delete(condition=Row.n == 0)
        raise AssertionError("conditional delete succeeded")
    except DeleteError as error:
        expect_condition_failure(error)
    got.delete()

    Row.delete_table()
    assert not Row.exists()
    print("ok")


if __name__ == "__main__":
    main()
