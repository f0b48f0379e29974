"""The PartiQL parser and its translation into operation requests (pure, no server)."""

from __future__ import annotations

import time

import pytest

from alternator.errors import ValidationException
from alternator.partiql import ast, count_parameters, parse, select_request, update_request
from alternator.schema import KeyAttribute, TableSchema

TABLE = TableSchema(name="tbl", partition_key=KeyAttribute("p", "S"),
                    sort_key=KeyAttribute("c", "N"),
                    attribute_definitions=(KeyAttribute("p", "S"), KeyAttribute("c", "N")),
                    table_id="id", created_at=0.0)


def test_select_tree() -> None:
    statement = parse("SELECT a.b[2], \"c d\" FROM \"tbl\".\"idx\" WHERE x = ? AND NOT y IS MISSING "
                      "ORDER BY c DESC")
    assert statement == ast.Select(
        "tbl", "idx", (ast.Path(("a", "b", 2)), ast.Path(("c d",))),
        ast.And((ast.Compare("=", ast.Path(("x",)), ast.Parameter(0)),
                 ast.Not(ast.Is(ast.Path(("y",)), "MISSING")))),
        (("c", True),))


def test_literals() -> None:
    statement = parse("INSERT INTO tbl VALUE {'a': [1, -2.5, 'x'], 'b': <<'s'>>, 'c': NULL, "
                      "'d': true, 'e': {'f': ?}}")
    assert isinstance(statement, ast.Insert)
    assert isinstance(statement.item, ast.Collection)
    assert count_parameters(statement) == 1


def test_precedence_and_parentheses() -> None:
    statement = parse("SELECT * FROM tbl WHERE a = 1 OR b = 2 AND NOT (c = 3 OR d = 4)")
    assert isinstance(statement, ast.Select)
    plan = select_request(statement, TABLE, [])
    assert plan.operation == "Scan"
    (req,) = plan.requests
    # Only the parentheses precedence needs: the expression parser refuses redundant ones.
    assert req["FilterExpression"] == "#n0 = :v0 OR #n1 = :v1 AND NOT (#n2 = :v2 OR #n3 = :v3)"


def test_key_terms_make_a_query() -> None:
    statement = parse("SELECT * FROM tbl WHERE 3 < c AND p = 'k' AND v = 1")
    assert isinstance(statement, ast.Select)
    plan = select_request(statement, TABLE, [])
    assert plan.operation == "Query"
    (req,) = plan.requests
    assert req["KeyConditionExpression"] == "#n0 = :v0 AND #n1 > :v1"
    assert req["FilterExpression"] == "#n2 = :v2"
    assert req["ExpressionAttributeNames"] == {"#n0": "p", "#n1": "c", "#n2": "v"}


def test_other_key_terms_are_applied_after_the_query() -> None:
    statement = parse("SELECT v FROM tbl WHERE p = 'k' AND (c = 1 OR c = 3)")
    assert isinstance(statement, ast.Select)
    plan = select_request(statement, TABLE, [])
    assert plan.operation == "Query" and plan.residual is not None
    (req,) = plan.requests
    assert "FilterExpression" not in req and "ProjectionExpression" not in req
    item = {"p": {"S": "k"}, "c": {"N": "3"}, "v": {"N": "7"}}
    assert plan.residual.apply(item) == {"v": {"N": "7"}}
    assert plan.residual.apply({**item, "c": {"N": "2"}}) is None


def test_partition_key_in_is_one_query_per_value() -> None:
    statement = parse("SELECT * FROM tbl WHERE p IN ['a', ?, 'a'] AND c > 1")
    assert isinstance(statement, ast.Select)
    plan = select_request(statement, TABLE, [{"S": "b"}])
    assert plan.operation == "Query"
    assert [r["ExpressionAttributeValues"][":v0"] for r in plan.requests] == [
        {"S": "a"}, {"S": "b"}]
    statement = parse("SELECT * FROM tbl WHERE p = 'a' OR p = 'b'")
    assert isinstance(statement, ast.Select)
    assert len(select_request(statement, TABLE, []).requests) == 2
    statement = parse("SELECT * FROM tbl WHERE p = 'a' OR v = 'b'")
    assert isinstance(statement, ast.Select)
    assert select_request(statement, TABLE, []).operation == "Scan"


def test_update_condition_requires_the_item() -> None:
    statement = parse("UPDATE tbl SET a = set_add(a, <<1>>) REMOVE b WHERE p = 'k' AND c = 1 "
                      "AND a IS NOT NULL RETURNING MODIFIED NEW *")
    assert isinstance(statement, ast.Update)
    req = update_request(statement, TABLE, [])
    assert req["Key"] == {"p": {"S": "k"}, "c": {"N": "1"}}
    assert req["UpdateExpression"] == "REMOVE #n1 ADD #n0 :v0"
    assert req["ConditionExpression"] == (
        "attribute_exists(#n2) AND NOT #n0 = :v1")
    assert req["ReturnValues"] == "UPDATED_NEW"


def test_errors_are_validation_exceptions() -> None:
    with pytest.raises(ValidationException) as exc:
        parse("SELECT * FROM tbl WHERE a = 1 b")
    assert exc.value.message.startswith("Statement wasn't well formed, can't be processed: ")
    with pytest.raises(ValidationException):
        parse("SELECT * FROM tbl WHERE " + "(" * 200 + "a = 1" + ")" * 200)


def test_parse_cost() -> None:
    """A hand-written parser: a typical statement parses in well under a millisecond."""
    text = ("SELECT a, b.c FROM \"table\" WHERE p = ? AND c BETWEEN 1 AND 9 AND "
            "begins_with(s, 'x') AND n IN [1, 2, 3] ORDER BY c DESC")
    start = time.perf_counter()
    for _ in range(1000):
        parse(text)
    assert (time.perf_counter() - start) / 1000 < 0.002
