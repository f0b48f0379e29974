"""PartiQL: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction, black-box on both
backends (docs/partiql.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_indexes import index

from conftest import Endpoint, create_table, error_of, new_key
from test_http import dynamodb_call, error_code


def S(value: str) -> dict[str, str]:
    return {"S": value}


def N(value: int | str) -> dict[str, str]:
    return {"N": str(value)}


@pytest.fixture(scope="module")
def tables(dynamodb: Any) -> Iterator[tuple[str, str]]:
    """A table keyed by ``p`` only, and one keyed by ``p`` and ``c`` with an index on ``g``."""
    hash_only = create_table(dynamodb, [("p", "HASH", "S")])
    ranged = create_table(dynamodb, [("p", "HASH", "S"), ("c", "RANGE", "N")],
                          attributes=(("g", "S"),),
                          GlobalSecondaryIndexes=[index("by_g", ["g"], ["c"])])
    yield hash_only, ranged
    dynamodb.delete_table(TableName=hash_only)
    dynamodb.delete_table(TableName=ranged)


def run(dynamodb: Any, statement: str, *parameters: dict[str, Any], **extra: Any) -> Any:
    if parameters:
        extra["Parameters"] = list(parameters)
    return dynamodb.execute_statement(Statement=statement, **extra)


def get(dynamodb: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    return dict(item) if item is not None else None


def fill(dynamodb: Any, table: str, p: str, count: int) -> None:
    for c in range(count):
        dynamodb.put_item(TableName=table, Item={"p": S(p), "c": N(c), "v": N(c * 10),
                                                 "g": S(f"g-{p}")})


# --- INSERT -------------------------------------------------------------------------------------


def test_insert_every_literal_type(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    p = new_key()
    out = run(dynamodb, f"""INSERT INTO "{hash_only}" VALUE {{
        'p': '{p}', 's': 'it''s', 'n': -12.50, 'e': 1e3, 't': TRUE, 'f': false, 'z': NULL,
        'l': [1, 'two', [3]], 'm': {{'a': {{'b': 'deep'}}}}, 'ss': <<'x', 'y'>>,
        'ns': <<1, 2.5>>, 'b': ?}}""", {"B": b"\x00\x01"})
    assert out["Items"] == []
    item = get(dynamodb, hash_only, {"p": S(p)})
    assert item is not None
    assert item["s"] == S("it's") and item["n"] == N("-12.5") and item["e"] == N(1000)
    assert item["t"] == {"BOOL": True} and item["f"] == {"BOOL": False}
    assert item["z"] == {"NULL": True}
    assert item["l"] == {"L": [N(1), S("two"), {"L": [N(3)]}]}
    assert item["m"] == {"M": {"a": {"M": {"b": S("deep")}}}}
    assert sorted(item["ss"]["SS"]) == ["x", "y"] and sorted(item["ns"]["NS"]) == ["1", "2.5"]
    assert item["b"] == {"B": b"\x00\x01"}


def test_insert_duplicate(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    p = new_key()
    run(dynamodb, f"INSERT INTO \"{hash_only}\" VALUE {{'p': ?, 'v': 1}}", S(p))
    with pytest.raises(ClientError) as exc:
        run(dynamodb, f"INSERT INTO \"{hash_only}\" VALUE {{'p': ?, 'v': 2}}", S(p))
    assert error_of(exc) == ("DuplicateItemException", "Duplicate primary key exists in table")
    assert get(dynamodb, hash_only, {"p": S(p)}) == {"p": S(p), "v": N(1)}


def test_insert_takes_a_struct(dynamodb: Any, tables: tuple[str, str]) -> None:
    """As in DynamoDB, the item is written {...}: a whole-item parameter is refused."""
    _, ranged = tables
    with pytest.raises(ClientError) as exc:
        run(dynamodb, f'INSERT INTO "{ranged}" VALUE ?', {"M": {"p": S("x"), "c": N(1)}})
    assert error_of(exc) == ("ValidationException", "Unsupported format in item expression. "
                             "Please use struct format {...} to express item values for insert "
                             "statement.")


def test_insert_key_checks(dynamodb: Any, tables: tuple[str, str]) -> None:
    _, ranged = tables
    with pytest.raises(ClientError) as exc:
        run(dynamodb, f"INSERT INTO \"{ranged}\" VALUE {{'p': 'a'}}")
    assert error_of(exc) == ("ValidationException",
                             "Key attribute should be present in the item: Key c")
    with pytest.raises(ClientError) as exc:
        run(dynamodb, f"INSERT INTO \"{ranged}\" VALUE {{'p': 'a', 'c': '1'}}")
    assert error_of(exc) == ("ValidationException", "Key attribute's data type should match "
                             "its data type in table's schema: Key c")


# --- SELECT -------------------------------------------------------------------------------------


def test_select_by_key_is_a_query(dynamodb: Any, tables: tuple[str, str]) -> None:
    _, ranged = tables
    p = new_key()
    fill(dynamodb, ranged, p, 5)
    found = run(dynamodb, f'SELECT * FROM "{ranged}" WHERE p = ?', S(p), ConsistentRead=True)
    assert [i["c"] for i in found["Items"]] == [N(c) for c in range(5)]
    assert "NextToken" not in found
    found = run(dynamodb, f"SELECT c, v FROM \"{ranged}\" WHERE p = '{p}' AND c >= 2 "
                "ORDER BY c DESC", ConsistentRead=True)
    assert found["Items"] == [{"c": N(c), "v": N(c * 10)} for c in (4, 3, 2)]
    found = run(dynamodb, f"SELECT c FROM \"{ranged}\" WHERE p = '{p}' AND c BETWEEN 1 AND 3 "
                "AND v <> 20", ConsistentRead=True)
    assert found["Items"] == [{"c": N(1)}, {"c": N(3)}]
    # A sort-key term the key condition cannot hold still filters (after the Query).
    found = run(dynamodb, f"SELECT c FROM \"{ranged}\" WHERE p = '{p}' AND (c = 0 OR c = 4)",
                ConsistentRead=True)
    assert sorted(i["c"]["N"] for i in found["Items"]) == ["0", "4"]


def test_select_paging(dynamodb: Any, tables: tuple[str, str]) -> None:
    _, ranged = tables
    p = new_key()
    fill(dynamodb, ranged, p, 7)
    seen: list[dict[str, Any]] = []
    request: dict[str, Any] = {"Limit": 3, "ConsistentRead": True}
    pages = 0
    while True:
        page = run(dynamodb, f'SELECT c FROM "{ranged}" WHERE p = ? AND v > 5', S(p), **request)
        pages += 1
        seen += page["Items"]
        if "NextToken" not in page:
            assert "LastEvaluatedKey" not in page
            break
        # The key the page stopped at is there too, as in Query's response.
        assert set(page["LastEvaluatedKey"]) == {"p", "c"}
        request["NextToken"] = page["NextToken"]
    # Limit counts the items read, not those matched (c = 0 fails v > 5 on the first page).
    assert seen == [{"c": N(c)} for c in range(1, 7)]
    assert pages == 3


def test_select_several_partitions(dynamodb: Any, tables: tuple[str, str]) -> None:
    """``pk IN [...]`` and ``pk = a OR pk = b`` are Queries of each partition in turn; Limit
    and NextToken page across them."""
    _, ranged = tables
    a, b, c = new_key(), new_key(), new_key()
    fill(dynamodb, ranged, a, 3)
    fill(dynamodb, ranged, b, 2)
    for where, parameters in ((f"p IN ['{a}', ?, '{c}']", [S(b)]),
                              (f"(p = '{a}' OR p = ? OR p = '{c}')", [S(b)])):
        request: dict[str, Any] = {"Limit": 2, "ConsistentRead": True}
        seen = []
        while True:
            page = run(dynamodb, f'SELECT p, c FROM "{ranged}" WHERE {where} AND c < 2',
                       *parameters, **request)
            assert len(page["Items"]) <= 2
            seen += [(i["p"]["S"], int(i["c"]["N"])) for i in page["Items"]]
            if "NextToken" not in page:
                break
            request["NextToken"] = page["NextToken"]
        assert seen == [(a, 0), (a, 1), (b, 0), (b, 1)]


def test_next_token_of_another_statement(dynamodb: Any, tables: tuple[str, str]) -> None:
    _, ranged = tables
    p = new_key()
    fill(dynamodb, ranged, p, 3)
    page = run(dynamodb, f'SELECT * FROM "{ranged}" WHERE p = ?', S(p), Limit=1)
    with pytest.raises(ClientError) as exc:
        run(dynamodb, f'SELECT * FROM "{ranged}" WHERE p = ?', S(new_key()), Limit=1,
            NextToken=page["NextToken"])
    assert error_of(exc)[0] == "ValidationException"


def test_select_scan_with_filter_and_functions(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    tag = new_key()
    rows = [
        {"p": S(f"{tag}-1"), "tag": S(tag), "name": S("apple"), "l": {"L": [S("x")]},
         "m": {"M": {"k": N(1)}}, "z": {"NULL": True}},
        {"p": S(f"{tag}-2"), "tag": S(tag), "name": S("banana"), "ss": {"SS": ["x", "y"]}},
        {"p": S(f"{tag}-3"), "tag": S(tag), "name": S("cherry"), "n": N(7)},
    ]
    for row in rows:
        dynamodb.put_item(TableName=hash_only, Item=row)

    def names(where: str, *parameters: dict[str, Any]) -> list[str]:
        out: list[str] = []
        request: dict[str, Any] = {"ConsistentRead": True}
        while True:
            page = run(dynamodb, f"SELECT name FROM \"{hash_only}\" WHERE tag = '{tag}' AND "
                       f"({where})", *parameters, **request)
            out += [i["name"]["S"] for i in page["Items"]]
            if "NextToken" not in page:
                return sorted(out)
            request["NextToken"] = page["NextToken"]

    assert names("begins_with(name, 'b')") == ["banana"]
    assert names("BEGINS_WITH(\"name\", ?)", S("ch")) == ["cherry"]
    assert names("contains(ss, 'y') OR contains(name, 'ppl')") == ["apple", "banana"]
    assert names("attribute_type(n, 'N')") == ["cherry"]
    assert names("size(name) = 6") == ["banana", "cherry"]
    assert names("n IS MISSING") == ["apple", "banana"]
    assert names("n IS NOT MISSING") == ["cherry"]
    assert names("attribute_exists(n) OR ATTRIBUTE_NOT_EXISTS(ss)") == ["apple", "cherry"]
    # IS NULL is "= NULL", as in DynamoDB: an absent attribute IS NOT NULL.
    assert names("z IS NULL") == ["apple"]
    assert names("z IS NOT NULL AND ss IS NOT MISSING") == ["banana"]
    assert names("n IS NUMERIC OR l IS LIST") == ["apple", "cherry"]
    assert names("m IS STRUCT AND m IS TUPLE AND name IS STRING AND NOT name IS BOOLEAN") == [
        "apple"]
    assert names("ss IS BLOB") == []
    assert names("name IN ['apple', 'cherry']") == ["apple", "cherry"]
    assert names("name IN ('apple')") == ["apple"]
    assert names("NOT name = 'apple'") == ["banana", "cherry"]
    assert names("name NOT IN ['apple']") == ["banana", "cherry"]
    assert names("name NOT BETWEEN 'b' AND 'c'") == ["apple", "cherry"]
    assert names("m.k = 1 OR l[0] = 'x'") == ["apple"]
    assert names("m['k'] >= 1") == ["apple"]
    assert names("n < 10 AND n > 6 AND n <= 7 AND n >= 7 AND n != 8") == ["cherry"]


def test_select_nested_projection(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    p = new_key()
    dynamodb.put_item(TableName=hash_only, Item={
        "p": S(p), "a": {"M": {"b": {"L": [N(1), N(2)]}, "c": S("x")}}, "d": S("y")})
    found = run(dynamodb, f'SELECT a.b[1], "d" FROM "{hash_only}" WHERE p = ?', S(p))
    assert found["Items"] == [{"a": {"M": {"b": {"L": [N(2)]}}}, "d": S("y")}]


def test_select_a_star_among_paths(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    p = new_key()
    dynamodb.put_item(TableName=hash_only, Item={"p": S(p), "a": N(1)})
    found = run(dynamodb, f'SELECT a, * FROM "{hash_only}" WHERE p = ?', S(p))
    assert found["Items"] == [{"p": S(p), "a": N(1)}]


def test_select_an_index(dynamodb: Any, tables: tuple[str, str]) -> None:
    _, ranged = tables
    p = new_key()
    fill(dynamodb, ranged, p, 3)
    found = run(dynamodb, f'SELECT p, c FROM "{ranged}"."by_g" WHERE g = ? ORDER BY c DESC',
                S(f"g-{p}"))
    assert found["Items"] == [{"p": S(p), "c": N(c)} for c in (2, 1, 0)]
    with pytest.raises(ClientError) as exc:
        run(dynamodb, f'SELECT * FROM "{ranged}"."nope" WHERE g = ? ORDER BY c', S("x"))
    assert error_of(exc) == ("ValidationException",
                             "The table does not have the specified index: nope")


def test_select_consumed_capacity(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    p = new_key()
    dynamodb.put_item(TableName=hash_only, Item={"p": S(p)})
    found = run(dynamodb, f'SELECT * FROM "{hash_only}" WHERE p = ?', S(p),
                ReturnConsumedCapacity="TOTAL", ConsistentRead=True)
    assert found["ConsumedCapacity"]["TableName"] == hash_only
    assert found["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_select_a_missing_table(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        run(dynamodb, 'SELECT * FROM "no_such_table_here"')
    assert error_of(exc)[0] == "ResourceNotFoundException"


def test_select_a_system_table(dynamodb: Any) -> None:
    found = run(dynamodb, 'SELECT * FROM ".scylla.alternator.system.clients"')
    assert any(i.get("client_type") == S("alternator") for i in found["Items"])


# --- UPDATE -------------------------------------------------------------------------------------


def test_update_set_remove_and_functions(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    p = new_key()
    dynamodb.put_item(TableName=hash_only, Item={
        "p": S(p), "n": N(1), "l": {"L": [N(1)]}, "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1"]}, "gone": S("x"), "m": {"M": {"k": S("v")}}})
    out = run(dynamodb, f"""UPDATE "{hash_only}" SET n = n + 10 SET l = list_append(l, [2, 3])
        SET ss = set_delete(ss, <<'a'>>), ns = SET_ADD(ns, <<2, 3>>) SET m.k2 = ?
        REMOVE gone, m.k WHERE p = ?""", S("new"), S(p))
    assert out["Items"] == []
    item = get(dynamodb, hash_only, {"p": S(p)})
    assert item is not None
    assert item["n"] == N(11) and item["l"] == {"L": [N(1), N(2), N(3)]}
    assert item["ss"] == {"SS": ["b"]} and sorted(item["ns"]["NS"]) == ["1", "2", "3"]
    assert "gone" not in item and item["m"] == {"M": {"k2": S("new")}}


def test_update_if_not_exists(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    p = new_key()
    dynamodb.put_item(TableName=hash_only, Item={"p": S(p), "a": N(5)})
    run(dynamodb, f"UPDATE \"{hash_only}\" SET a = if_not_exists(a, 0) + 1, "
        "b = IF_NOT_EXISTS(b, 0) + 1 WHERE p = ?", S(p))
    assert get(dynamodb, hash_only, {"p": S(p)}) == {"p": S(p), "a": N(6), "b": N(1)}


def test_update_returning(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    p = new_key()
    dynamodb.put_item(TableName=hash_only, Item={"p": S(p), "a": N(1), "b": N(2)})
    base = f'UPDATE "{hash_only}" SET a = a + 1 WHERE p = ? RETURNING '
    assert run(dynamodb, base + "ALL OLD *", S(p))["Items"] == [
        {"p": S(p), "a": N(1), "b": N(2)}]
    assert run(dynamodb, base + "MODIFIED OLD *", S(p))["Items"] == [{"a": N(2)}]
    assert run(dynamodb, base + "ALL NEW *", S(p))["Items"] == [
        {"p": S(p), "a": N(4), "b": N(2)}]
    assert run(dynamodb, base + "modified new *", S(p))["Items"] == [{"a": N(5)}]


def test_update_conditions(dynamodb: Any, tables: tuple[str, str]) -> None:
    _, ranged = tables
    p = new_key()
    dynamodb.put_item(TableName=ranged, Item={"p": S(p), "c": N(1), "v": N(5)})
    run(dynamodb, f"UPDATE \"{ranged}\" SET v = 6 WHERE p = ? AND c = 1 AND v = 5", S(p))
    assert get(dynamodb, ranged, {"p": S(p), "c": N(1)})["v"] == N(6)  # type: ignore[index]
    with pytest.raises(ClientError) as exc:
        run(dynamodb, f"UPDATE \"{ranged}\" SET v = 7 WHERE p = ? AND c = 1 AND v = 5", S(p),
            ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert error_of(exc)[0] == "ConditionalCheckFailedException"
    assert exc.value.response["Item"] == {"p": S(p), "c": N(1), "v": N(6)}
    # An UPDATE of an item that does not exist fails its condition: it creates nothing.
    with pytest.raises(ClientError) as exc:
        run(dynamodb, f"UPDATE \"{ranged}\" SET v = 7 WHERE p = ? AND c = 2", S(p))
    assert error_of(exc)[0] == "ConditionalCheckFailedException"
    assert get(dynamodb, ranged, {"p": S(p), "c": N(2)}) is None


def test_update_needs_the_full_key(dynamodb: Any, tables: tuple[str, str]) -> None:
    _, ranged = tables
    for statement in (f"UPDATE \"{ranged}\" SET v = 1 WHERE p = 'a'",
                      f"UPDATE \"{ranged}\" SET v = 1 WHERE p = 'a' OR c = 1",
                      f"DELETE FROM \"{ranged}\" WHERE c = 1",
                      f"UPDATE \"{ranged}\" SET v = 1 WHERE p > 'a' AND c = 1"):
        with pytest.raises(ClientError) as exc:
            run(dynamodb, statement)
        assert error_of(exc) == ("ValidationException", "Where clause does not contain a "
                                 "mandatory equality on all key attributes"), statement


def test_key_types_must_match_the_schema(dynamodb: Any, tables: tuple[str, str]) -> None:
    _, ranged = tables
    for statement in (f"UPDATE \"{ranged}\" SET v = 1 WHERE p = 'a' AND c = '1'",
                      f"DELETE FROM \"{ranged}\" WHERE p = 1 AND c = 1",
                      f"SELECT * FROM \"{ranged}\" WHERE p = 1"):
        with pytest.raises(ClientError) as exc:
            run(dynamodb, statement)
        assert error_of(exc)[0] == "ValidationException", statement
        assert "Key attribute's data type should match its data type in table's schema" in \
            error_of(exc)[1], statement


def test_two_values_of_one_key(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    with pytest.raises(ClientError) as exc:
        run(dynamodb, f"DELETE FROM \"{hash_only}\" WHERE p = 'a' AND p = 'b'")
    assert error_of(exc) == ("ValidationException", "Multiple conditions on same key p. Only "
                             "single item Update/Insert/Delete are supported")
    run(dynamodb, f"DELETE FROM \"{hash_only}\" WHERE p = 'a' AND p = 'a'")


def test_update_of_a_key_attribute(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    p = new_key()
    dynamodb.put_item(TableName=hash_only, Item={"p": S(p)})
    with pytest.raises(ClientError) as exc:
        run(dynamodb, f"UPDATE \"{hash_only}\" SET p = 'other' WHERE p = ?", S(p))
    assert error_of(exc)[0] == "ValidationException"


# --- DELETE -------------------------------------------------------------------------------------


def test_delete(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    p = new_key()
    dynamodb.put_item(TableName=hash_only, Item={"p": S(p), "v": N(1)})
    with pytest.raises(ClientError) as exc:
        run(dynamodb, f'DELETE FROM "{hash_only}" WHERE p = ? AND v = 2', S(p))
    assert error_of(exc)[0] == "ConditionalCheckFailedException"
    out = run(dynamodb, f'DELETE FROM "{hash_only}" WHERE p = ? AND v = 1 RETURNING ALL OLD *',
              S(p))
    assert out["Items"] == [{"p": S(p), "v": N(1)}]
    assert get(dynamodb, hash_only, {"p": S(p)}) is None
    # Deleting what is not there is no error.
    assert run(dynamodb, f'DELETE FROM "{hash_only}" WHERE p = ?', S(p))["Items"] == []
    with pytest.raises(ClientError) as exc:
        run(dynamodb, f'DELETE FROM "{hash_only}" WHERE p = ? RETURNING ALL NEW *', S(p))
    assert error_of(exc)[0] == "ValidationException"


def test_write_capacity(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    p = new_key()
    out = run(dynamodb, f"INSERT INTO \"{hash_only}\" VALUE {{'p': ?}}", S(p),
              ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == {"TableName": hash_only, "CapacityUnits": 1.0,
                                       "WriteCapacityUnits": 1.0}


def test_write_isolation_applies(dynamodb: Any) -> None:
    name = create_table(dynamodb, [("p", "HASH", "S")],
                        Tags=[{"Key": "system:write_isolation", "Value": "forbid_rmw"}])
    try:
        p = new_key()
        # An INSERT must know whether the key exists: a read-modify-write, which forbid_rmw
        # refuses as it refuses the equivalent conditional PutItem.
        with pytest.raises(ClientError) as exc:
            run(dynamodb, f"INSERT INTO \"{name}\" VALUE {{'p': ?}}", S(p))
        assert error_of(exc)[0] == "ValidationException"
        assert "forbid_rmw" in error_of(exc)[1]
        dynamodb.put_item(TableName=name, Item={"p": S(p)})
        run(dynamodb, f'DELETE FROM "{name}" WHERE p = ?', S(p))  # a blind write
        assert get(dynamodb, name, {"p": S(p)}) is None
    finally:
        dynamodb.delete_table(TableName=name)


# --- parameters ---------------------------------------------------------------------------------


def test_parameter_count_must_match(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    for parameters in ([], [S("a"), S("b")]):
        with pytest.raises(ClientError) as exc:
            run(dynamodb, f'SELECT * FROM "{hash_only}" WHERE p = ?', *parameters)
        assert error_of(exc) == ("ValidationException",
                                 "Number of parameters in request and statement don't match.")


def test_parameters_in_collections(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    p = new_key()
    run(dynamodb, f"INSERT INTO \"{hash_only}\" VALUE {{'p': ?, 'l': [?, {{'k': ?}}], "
        "'s': <<?, 'b'>>}", S(p), N(1), {"BOOL": True}, S("a"))
    assert get(dynamodb, hash_only, {"p": S(p)}) == {
        "p": S(p), "l": {"L": [N(1), {"M": {"k": {"BOOL": True}}}]}, "s": {"SS": ["a", "b"]}}


# --- malformed statements -----------------------------------------------------------------------

MALFORMED = [
    "",
    "SELEC * FROM tbl",
    "SELECT * FROM",
    "SELECT * FROM tbl WHERE",
    "SELECT * FROM tbl WHERE a =",
    "SELECT * FROM tbl WHERE a = 'unterminated",
    "SELECT * FROM tbl WHERE (a = 1",
    "SELECT * FROM tbl WHERE a = 1 b = 2",
    "SELECT * FROM tbl t2",
    "SELECT a AS b FROM tbl",
    "SELECT * FROM tbl, uuu",
    "SELECT * FROM tbl JOIN u ON tbl.a = u.a",
    "SELECT * FROM tbl GROUP BY a",
    "SELECT * FROM tbl LIMIT 5",
    "SELECT DISTINCT a FROM tbl",
    "SELECT VALUE a FROM tbl",
    "SELECT a.b, c.b FROM tbl",
    "SELECT a.* FROM tbl",
    "SELECT a[*] FROM tbl",
    'SELECT "" FROM tbl',
    "SELECT a[''] FROM tbl",
    "SELECT a[2147483648] FROM tbl",
    "SELECT * FROM tbl WHERE a = MISSING",
    "SELECT * FROM tbl WHERE a IS 5",
    "SELECT * FROM tbl WHERE foo(a) = 1",
    "SELECT * FROM tbl WHERE EXISTS(SELECT * FROM tbl)",
    "SELECT * FROM tbl WHERE a IN 5",
    "SELECT * FROM tbl WHERE attribute_exists(a, b)",
    "SELECT * FROM tbl WHERE attribute_exists('a')",
    "SELECT * FROM tbl WHERE begins_with(a)",
    "SELECT * FROM tbl WHERE a IS DATE",
    "SELECT * FROM tbl WHERE a IN []",
    "SELECT * FROM tbl WHERE a",
    "SELECT * FROM tbl WHERE size(a)",
    "SELECT * FROM tbl WHERE size(a) IS MISSING",
    "UPDATE tbl SET a = set_add(a) WHERE b = 1",
    "UPDATE tbl SET a = set_add(a, 'x') WHERE b = 1",
    "UPDATE tbl SET a = begins_with(a, 'x') WHERE b = 1",
    "SELECT * FROM tbl WHERE select = 1",
    "SELECT * FROM tbl; SELECT * FROM tbl",
    "SELECT * FROM tbl WHERE a = <<1, 'x'>>",
    "SELECT * FROM tbl WHERE a = {1: 2}",
    "SELECT * FROM tbl WHERE a = {'k': 1, 'k': 2}",
    "SELECT * FROM tbl WHERE a[x] = 1",
    "SELECT * FROM tbl WHERE a = 1 /* unterminated",
    "SELECT * FROM tbl WHERE a = #",
    "INSERT INTO tbl VALUES ('a')",
    "INSERT INTO tbl (a) VALUE {'a': 1}",
    "INSERT INTO tbl VALUE {'a': 1}, {'a': 2}",
    "INSERT INTO tbl VALUE {'a': 1} RETURNING ALL OLD *",
    "INSERT INTO tbl VALUE 'a'",
    "UPDATE tbl WHERE a = 1",
    "UPDATE tbl SET a = 1",
    "UPDATE tbl SET a WHERE b = 1",
    "UPDATE tbl SET a = 1 WHERE b = 1 RETURNING ALL",
    "UPDATE tbl SET a = 1 WHERE b = 1 RETURNING ALL OLD a",
    "UPDATE tbl SET a = set_add(b, <<1>>) WHERE b = 1",
    "UPDATE tbl SET a = frobnicate(a) WHERE b = 1",
    "DELETE tbl WHERE a = 1",
    "DELETE FROM tbl",
    "UPSERT INTO tbl VALUE {'a': 1}",
    "REPLACE INTO tbl VALUE {'a': 1}",
    "CREATE TABLE t",
    "BEGIN TRANSACTION",
    "EXISTS(SELECT * FROM tbl WHERE a = 1)",
    "42",
    "SELECT * FROM ab",
    'SELECT * FROM "a b c"',
    'SELECT * FROM "tbl"."idx"."x"',
    'UPDATE "tbl"."idx" SET a = 1 WHERE p = 1',
    'DELETE FROM "tbl"."idx" WHERE p = 1',
]


@pytest.mark.parametrize("statement", MALFORMED)
def test_malformed_statements(raw_dynamodb: Any, statement: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.execute_statement(Statement=statement)
    code, message = error_of(exc)
    assert code == "ValidationException", message
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


# DynamoDB's own messages, as its PartiQL front end words them.
MESSAGES = [
    ("SELECT DISTINCT a FROM tbl", "Unsupported token in expression: DISTINCT"),
    ("SELECT * FROM tbl GROUP BY a", "Unsupported clause: GROUP BY"),
    ("SELECT * FROM tbl LIMIT 5", "Unsupported clause: LIMIT"),
    ("SELECT * FROM tbl x", "Aliasing is not supported"),
    ("SELECT * FROM tbl, uuu", "Only select from a single table or index is supported."),
    ("SELECT * FROM ab", "Table name should be within the length [3, 255] and only contain "
                         "'a-z', 'A-Z', '0-9', '-', '_', '.'."),
    ('SELECT * FROM "a"."b"."c"', "A path may contain at most 2 components in the FROM clause"),
    ('UPDATE "tbl"."idx" SET a = 1 WHERE p = 1', "This operation is not supported on an index"),
    ("SELECT a.b, c.b FROM tbl", "Duplicate identifiers in select clause: b"),
    ("SELECT * FROM tbl WHERE a = MISSING", "MISSING must be compared using IS operator"),
    ("SELECT * FROM tbl WHERE a IS DATE", "Unsupported data type for IS operator: DATE. "
     "Supported data types are [MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, "
     "LIST]"),
    ("SELECT * FROM tbl WHERE a IN []", "IN operator must have a left hand argument of type "
     "Variable Reference and right hand argument of type Seq with at least one member"),
    ("SELECT * FROM tbl WHERE size(a)",
     "WHERE clause must contain an expression that resolves to a boolean"),
    ("SELECT * FROM tbl WHERE frob(a) = 1", "Unrecognized function: frob"),
    ("INSERT INTO tbl VALUE {'a': 1} RETURNING ALL OLD *", "RETURNING is not supported in INSERT"),
    ("INSERT INTO tbl VALUE ?", "Unsupported format in item expression. Please use struct "
     "format {...} to express item values for insert statement."),
    ("INSERT INTO tbl VALUE {'a': 1, 'a': 2}", "Duplicate keys in tuple. Key: a"),
    ("DELETE FROM tbl WHERE p = 1 RETURNING MODIFIED NEW *", "Invalid returning clause: "
     "RETURNING MODIFIED NEW *. Only RETURNING ALL OLD * is allowed in DELETE statements."),
    ("UPDATE tbl SET a = 1 WHERE p = 1 RETURNING ALL NEW a",
     "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"),
    ("UPDATE tbl SET a = set_add(b, <<1>>) WHERE p = 1",
     "The first argument to SET_ADD must equal the assignment value"),
    ("UPDATE tbl SET a = set_delete(a, 1) WHERE p = 1",
     "The second argument to SET_DELETE must be a value with type SET"),
]


@pytest.mark.parametrize("statement, message", MESSAGES)
def test_dynamodb_messages(raw_dynamodb: Any, statement: str, message: str) -> None:
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.execute_statement(Statement=statement)
    assert error_of(exc) == ("ValidationException", message)


def test_syntax_error_message(dynamodb: Any) -> None:
    with pytest.raises(ClientError) as exc:
        run(dynamodb, "SELECT * FROM tbl WHERE a = 1 b = 2")
    assert error_of(exc)[1].startswith("Statement wasn't well formed, can't be processed: ")


def test_order_by_needs_a_query(dynamodb: Any, tables: tuple[str, str]) -> None:
    _, ranged = tables
    for statement in (f'SELECT * FROM "{ranged}" ORDER BY c',
                      f"SELECT * FROM \"{ranged}\" WHERE p = 'a' ORDER BY v"):
        with pytest.raises(ClientError) as exc:
            run(dynamodb, statement)
        assert error_of(exc)[0] == "ValidationException"


def test_return_values_on_condition_check_failure_is_checked(
        raw_dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    with pytest.raises(ClientError) as exc:
        raw_dynamodb.execute_statement(
            Statement=f"INSERT INTO \"{hash_only}\" VALUE {{'p': 'x'}}",
            ReturnValuesOnConditionCheckFailure="SOME")
    assert error_of(exc)[0] == "ValidationException"


def test_bad_next_token(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    with pytest.raises(ClientError) as exc:
        run(dynamodb, f'SELECT * FROM "{hash_only}"', NextToken="not a token")
    assert error_of(exc)[0] == "ValidationException"


def test_comments_case_and_semicolon(dynamodb: Any, tables: tuple[str, str]) -> None:
    hash_only, _ = tables
    p = new_key()
    dynamodb.put_item(TableName=hash_only, Item={"p": S(p), "Value": N(3)})
    found = run(dynamodb, f"""select "Value" -- a comment
        from "{hash_only}" /* another */ where "p" = ?;""", S(p))
    assert found["Items"] == [{"Value": N(3)}]


MALFORMED_REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("ExecuteStatement", {}),
    ("ExecuteStatement", {"Statement": 5}),
    ("ExecuteStatement", {"Statement": "SELECT * FROM tbl WHERE a = ?", "Parameters": "x"}),
    ("ExecuteStatement", {"Statement": "SELECT * FROM tbl WHERE a = ?", "Parameters": [{}]}),
    ("ExecuteStatement", {"Statement": "SELECT * FROM tbl WHERE a = ?", "Parameters": ["x"]}),
    ("ExecuteStatement", {"Statement": "SELECT * FROM tbl WHERE a = ?",
                          "Parameters": [{"X": "1"}]}),
    ("ExecuteStatement", {"Statement": "SELECT * FROM tbl WHERE a = ?",
                          "Parameters": [{"N": "not a number"}]}),
    ("ExecuteStatement", {"Statement": "SELECT * FROM tbl", "Parameters": []}),
    ("ExecuteStatement", {"Statement": "SELECT * FROM tbl", "Limit": "x"}),
    ("ExecuteStatement", {"Statement": "SELECT * FROM tbl", "ConsistentRead": "yes"}),
    ("ExecuteStatement", {"Statement": "SELECT * FROM tbl", "ReturnConsumedCapacity": "ALL"}),
    ("ExecuteStatement", {"Statement": "SELECT * FROM tbl", "NextToken": 7}),
    ("ExecuteStatement", {"Statement": "x" * 8193}),
    ("BatchExecuteStatement", {}),
    ("BatchExecuteStatement", {"Statements": "x"}),
    ("BatchExecuteStatement", {"Statements": ["x"]}),
    ("BatchExecuteStatement", {"Statements": [{"Statement": "SELECT * FROM tbl"}],
                               "ReturnConsumedCapacity": 5}),
    ("ExecuteTransaction", {}),
    ("ExecuteTransaction", {"TransactStatements": [{}]}),
    ("ExecuteTransaction", {"TransactStatements": [{"Statement": 5}]}),
    ("ExecuteTransaction", {"TransactStatements": ["x"]}),
    ("ExecuteTransaction", {"TransactStatements": [{"Statement": "SELECT * FROM tbl",
                                                    "Parameters": [{"S": 1}]}]}),
]


@pytest.mark.parametrize("target, request_body", MALFORMED_REQUESTS)
def test_malformed_requests(endpoint: Endpoint, target: str,
                            request_body: dict[str, Any]) -> None:
    """A malformed request is a 400 (ValidationException or SerializationException) before any
    table is looked up, never a 500."""
    status, body = dynamodb_call(endpoint, f"DynamoDB_20120810.{target}",
                                 json.dumps(request_body).encode())
    assert status == 400, body
    assert error_code(body) in ("ValidationException", "SerializationException"), body
