"""Generated statements: parsing and translation raise only DynamoDB errors (never a 500), and
every expression a translation writes is one the expression engine accepts or refuses with a
ValidationException."""

from __future__ import annotations

import random

from alternator import expressions as expr
from alternator.errors import DynamoDBError
from alternator.partiql import ast, parse
from alternator.partiql.reads import point_read, select_request
from alternator.partiql.render import count_parameters
from alternator.partiql.writes import check_request, delete_request, insert_request, update_request
from alternator.schema import KeyAttribute, TableSchema

TABLE = TableSchema(name="tbl", partition_key=KeyAttribute("p", "S"),
                    sort_key=KeyAttribute("c", "N"),
                    attribute_definitions=(KeyAttribute("p", "S"), KeyAttribute("c", "N")),
                    table_id="id", created_at=0.0)


class Generator:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def pick(self, *options: str) -> str:
        return self.random.choice(options)

    def value(self, depth: int = 0) -> str:
        roll = self.random.random()
        if depth > 2 or roll < 0.5:
            return self.pick("'a'", "1", "-2.5", "TRUE", "NULL", "?", "1e3", "''", "MISSING")
        members = [self.value(depth + 1) for _ in range(self.random.randint(0, 3))]
        if roll < 0.7:
            return "[" + ", ".join(members) + "]"
        if roll < 0.85:
            return "{" + ", ".join(f"'k{i}': {m}" for i, m in enumerate(members)) + "}"
        return "<<" + ", ".join(self.pick("'x'", "'y'", "1", "?") for _ in members) + ">>"

    def path(self) -> str:
        return self.pick("p", "c", "a", "a.b", "a[0]", '"p"', "b['k']", "v", "a[*]", '""')

    def operand(self) -> str:
        roll = self.random.random()
        if roll < 0.5:
            return self.path()
        if roll < 0.6:
            return f"size({self.path()})"
        return self.value()

    def condition(self, depth: int = 0) -> str:
        roll = self.random.random() * (0.6 if depth > 3 else 1.0)
        if roll < 0.25:
            op = self.pick("=", "<>", "!=", "<", "<=", ">", ">=")
            return f"{self.operand()} {op} {self.operand()}"
        if roll < 0.3:
            return (f"{self.operand()} {self.pick('', 'NOT ')}BETWEEN {self.operand()} AND "
                    f"{self.operand()}")
        if roll < 0.35:
            options = ", ".join(self.operand() for _ in range(self.random.randint(0, 3)))
            return f"{self.operand()} {self.pick('', 'NOT ')}IN [{options}]"
        if roll < 0.4:
            return (f"{self.path()} IS {self.pick('', 'NOT ')}"
                    f"{self.pick('MISSING', 'NULL', 'STRING', 'LIST', 'DATE')}")
        if roll < 0.5:
            function = self.pick("begins_with", "contains", "attribute_type", "frob")
            return f"{function}({self.operand()}, {self.operand()})"
        if roll < 0.55:
            return f"{self.pick('attribute_exists', 'attribute_not_exists')}({self.path()})"
        if roll < 0.7:
            return f"{self.condition(depth + 1)} AND {self.condition(depth + 1)}"
        if roll < 0.8:
            return f"{self.condition(depth + 1)} OR {self.condition(depth + 1)}"
        if roll < 0.9:
            return f"NOT {self.condition(depth + 1)}"
        return f"({self.condition(depth + 1)})"

    def assignment(self) -> str:
        path = self.path()
        roll = self.random.random()
        if roll < 0.4:
            value = self.operand()
        elif roll < 0.6:
            value = f"{self.operand()} {self.pick('+', '-')} {self.operand()}"
        elif roll < 0.8:
            value = f"{self.pick('list_append', 'if_not_exists')}({self.operand()}, {self.operand()})"
        else:
            value = f"{self.pick('set_add', 'set_delete')}({path}, {self.pick('<<1>>', '?', path)})"
        return f"SET {path} = {value}"

    def statement(self) -> str:
        where = self.condition()
        if self.random.random() < 0.6:
            where = f"p = {self.value()} AND " + where
        if self.random.random() < 0.4:
            where = f"c = {self.value()} AND " + where
        roll = self.random.random()
        if roll < 0.4:
            projection = "*" if self.random.random() < 0.5 else ", ".join(
                self.path() for _ in range(self.random.randint(1, 3)))
            source = self.pick('"tbl"', '"tbl"."idx"')
            order = self.pick("", " ORDER BY c DESC", " ORDER BY p", " ORDER BY v")
            return (f"SELECT {projection} FROM {source}"
                    + (f" WHERE {where}" if self.random.random() < 0.8 else "") + order)
        if roll < 0.55:
            return f"INSERT INTO tbl VALUE {self.value()}"
        if roll < 0.8:
            clauses = " ".join(self.assignment() if self.random.random() < 0.7
                               else f"REMOVE {self.path()}"
                               for _ in range(self.random.randint(1, 3)))
            returning = self.pick("", " RETURNING ALL OLD *", " RETURNING MODIFIED NEW *")
            return f"UPDATE tbl {clauses} WHERE {where}{returning}"
        if roll < 0.95:
            return f"DELETE FROM tbl WHERE {where}" + self.pick("", " RETURNING ALL OLD *")
        return f"EXISTS(SELECT * FROM tbl WHERE {where})"


def _bind(request: dict[str, object]) -> None:
    binder = expr.Binder(request.get("ExpressionAttributeNames"),  # type: ignore[arg-type]
                         request.get("ExpressionAttributeValues"))  # type: ignore[arg-type]
    for name in ("KeyConditionExpression", "FilterExpression", "ConditionExpression"):
        text = request.get(name)
        if isinstance(text, str):
            binder.filter(text)
    if isinstance(request.get("UpdateExpression"), str):
        binder.update(str(request["UpdateExpression"]))
    if isinstance(request.get("ProjectionExpression"), str):
        binder.projection(str(request["ProjectionExpression"]))
    binder.finish()


def _translate(text: str) -> int:
    """Parse and translate; 1 if the statement parsed (so translation was tried), else 0."""
    try:
        statement = parse(text)
    except DynamoDBError:
        return 0
    try:
        parameters = [{"S": "x"}] * count_parameters(statement)
        match statement:
            case ast.Select():
                for request in select_request(statement, TABLE, parameters).requests:
                    _bind(request)
                point_read(statement, TABLE, parameters, transaction=True)
            case ast.Insert():
                _bind(insert_request(statement, TABLE, parameters))
            case ast.Update():
                _bind(update_request(statement, TABLE, parameters))
            case ast.Delete():
                _bind(delete_request(statement, TABLE, parameters))
            case ast.Exists():
                _bind(check_request(statement, TABLE, parameters))
    except DynamoDBError:
        pass
    return 1


def test_generated_statements_raise_only_dynamodb_errors() -> None:
    generator = Generator(seed=19)
    translated = sum(_translate(generator.statement()) for _ in range(3000))
    assert translated > 300  # the generator reaches translation, not only parse errors
