"""PynamoDB against alternator, as an application uses it: a Model class, its table created and
deleted with PynamoDB's own waiting, conditions on the model's attributes, paginated Query and
Scan, batch writes and gets; a second Model with a global and a local secondary index, queried
and scanned through them. Run by tests/test_sdk_clients.py with ALTERNATOR_ENDPOINT,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and ALTERNATOR_TABLE set (and AWS_CA_BUNDLE over
HTTPS). Prints "ok" when all passed.
"""

import os

from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    LocalSecondaryIndex,
)

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


class ByOwner(GlobalSecondaryIndex["Order"]):
    class Meta:
        index_name = "by_owner"
        projection = IncludeProjection(["total"])

    owner = UnicodeAttribute(hash_key=True)
    placed = NumberAttribute(range_key=True)


class ByTotal(LocalSecondaryIndex["Order"]):
    class Meta:
        index_name = "by_total"
        projection = AllProjection()

    shop = UnicodeAttribute(hash_key=True)
    total = NumberAttribute(range_key=True)


class Order(Model):
    class Meta(Row.Meta):  # the same connection, another table
        table_name = os.environ["ALTERNATOR_TABLE"] + "_orders"

    shop = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute(range_key=True)
    owner = UnicodeAttribute(null=True)
    placed = NumberAttribute(null=True)
    total = NumberAttribute()
    note = UnicodeAttribute(null=True)
    by_owner = ByOwner()
    by_total = ByTotal()


def indexes() -> None:
    Order.create_table(wait=True)
    for i in range(12):
        Order("s1" if i % 2 else "s2", f"o{i:02d}", owner=f"u{i % 3}", placed=i, total=100 - i,
              note="n").save()
    Order("s1", "anonymous", total=5).save()  # no owner: not in by_owner (sparse)

    mine = list(Order.by_owner.query("u1", Order.placed > 3, page_size=2))
    assert [o.order_id for o in mine] == ["o04", "o07", "o10"], [o.order_id for o in mine]
    assert all(o.total == 100 - o.placed and o.note is None for o in mine)  # INCLUDE total only
    assert Order.by_owner.count("u0") == 4
    assert sum(1 for _ in Order.by_owner.scan()) == 12

    cheap = list(Order.by_total.query("s1", Order.total < 94, scan_index_forward=True))
    assert [o.total for o in cheap] == [5, 89, 91, 93], [o.total for o in cheap]
    assert cheap[1].note == "n"  # projection ALL
    assert sum(1 for _ in Order.by_total.scan()) == 13
    Order.delete_table()


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
    indexes()
    print("ok")


if __name__ == "__main__":
    main()
