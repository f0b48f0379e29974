"""A recursive-descent parser for DynamoDB's PartiQL statements (pure).

Grammar (keywords are case-insensitive, names may be double-quoted)::

    statement := (select | insert | update | delete | exists) [";"]
    select    := SELECT ("*" | path {"," path}) FROM name ["." name] [WHERE cond]
                 [ORDER BY name [ASC|DESC] {"," name [ASC|DESC]}]
    insert    := INSERT INTO name VALUE "{" string ":" value, ... "}"
    update    := UPDATE name (SET assign {"," assign} | REMOVE path {"," path})+ WHERE cond
                 [RETURNING (ALL|MODIFIED) (OLD|NEW) "*"]
    delete    := DELETE FROM name WHERE cond [RETURNING ALL OLD "*"]
    exists    := EXISTS "(" select ")"
    assign    := path "=" (setvalue [("+" | "-") setvalue])
    setvalue  := operand | (LIST_APPEND | IF_NOT_EXISTS | SET_ADD | SET_DELETE)
                 "(" setvalue "," setvalue ")"
    cond      := and {OR and};  and := not {AND not};  not := NOT not | predicate
    predicate := "(" cond ")"
               | (BEGINS_WITH | CONTAINS | ATTRIBUTE_TYPE) "(" operand "," operand ")"
               | (ATTRIBUTE_EXISTS | ATTRIBUTE_NOT_EXISTS) "(" path ")"
               | operand (op operand | [NOT] BETWEEN operand AND operand
                          | [NOT] IN ("[" | "(") operand {"," operand} ("]" | ")")
                          | IS [NOT] (MISSING | NULL | BOOLEAN | NUMERIC | STRING | BLOB
                                     | STRUCT | TUPLE | LIST))
    operand   := path | value | SIZE "(" path ")"
    path      := name {"." name | "[" integer "]" | "[" string "]"}
    value     := string | number | TRUE | FALSE | NULL | "?" | "[" values "]"
               | "{" string ":" value, ... "}" | "<<" values ">>"

A syntax error is DynamoDB's ValidationException "Statement wasn't well formed, can't be
processed: ..." (tests/test_partiql.py::test_malformed_statements); a construct DynamoDB parses
but refuses gets DynamoDB's own message (tests/test_partiql.py::test_dynamodb_messages).
"""

from __future__ import annotations

import re
from typing import Any, cast

from alternator.errors import ValidationException
from alternator.partiql import ast
from alternator.partiql.lexer import malformed, tokenize
from alternator.partiql.terms import TermParser

MAX_STATEMENT_BYTES = 8192
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")


def parse(text: str) -> ast.Statement:
    if len(text.encode()) > MAX_STATEMENT_BYTES:
        raise ValidationException(
            "1 validation error detected: Value at 'statement' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_STATEMENT_BYTES}")
    return _Parser(tokenize(text)).statement()


class _Parser(TermParser):
    """The statements, each from its first keyword to its end."""

    def statement(self) -> ast.Statement:
        token = self.token
        result: ast.Statement
        if token.is_word("SELECT"):
            result = self.select()
        elif token.is_word("INSERT"):
            result = self.insert()
        elif token.is_word("UPDATE"):
            result = self.update()
        elif token.is_word("DELETE"):
            result = self.delete()
        elif token.is_word("EXISTS"):
            self.advance()
            self.expect_punct("(")
            if not self.token.is_word("SELECT"):
                raise malformed("EXISTS takes a SELECT statement")
            result = ast.Exists(self.select())
            self.expect_punct(")")
        elif token.kind == "eof":
            raise malformed("Empty statement")
        elif token.is_word("UPSERT", "REPLACE", "CREATE", "DROP", "ALTER", "BEGIN", "COMMIT"):
            raise malformed(f"{token.text.upper()} statements are not supported")
        else:
            raise malformed("Expected data manipulation")
        self.punct(";")
        if self.token.kind != "eof":
            raise malformed(f"Unexpected token {self.token.describe()} after the statement "
                            f"at position {self.token.start + 1}")
        return result

    def source(self) -> tuple[str, str | None]:
        """``"table"`` or ``"table"."index"`` after FROM (or UPDATE), checked as DynamoDB does."""
        names = [self.name("a table name")]
        while self.punct("."):
            names.append(self.name("an index name"))
        if len(names) > 2:
            raise ValidationException(
                "A path may contain at most 2 components in the FROM clause")
        for name in names:
            if not _TABLE_NAME.fullmatch(name):
                raise ValidationException(
                    "Table name should be within the length [3, 255] and only contain 'a-z', "
                    "'A-Z', '0-9', '-', '_', '.'.")
        return names[0], names[1] if len(names) > 1 else None

    def table(self) -> str:
        """The table of a write: an index is refused."""
        table, index = self.source()
        if index is not None:
            raise ValidationException("This operation is not supported on an index")
        return table

    def select(self) -> ast.Select:
        self.expect_word("SELECT")
        if self.token.is_word("DISTINCT"):
            raise ValidationException("Unsupported token in expression: DISTINCT")
        if self.token.is_word("VALUE", "PIVOT"):
            raise ValidationException("Select projection doesn't support value or pivot keywords")
        projection: tuple[ast.Path, ...] | None = None
        if not self.punct("*"):
            paths = [self.path()]
            while self.punct(","):
                if self.punct("*"):
                    break  # "a, *" is every attribute, as DynamoDB reads it
                paths.append(self.path())
            else:
                projection = _distinct_projection(paths)
            if self.token.is_word("AS"):
                raise ValidationException("Aliasing is not supported")
        self.expect_word("FROM")
        table, index = self.source()
        self.unsupported_clause()
        if self.token.is_punct(","):
            raise ValidationException("Only select from a single table or index is supported.")
        if self.token.is_word("JOIN", "INNER", "LEFT", "RIGHT", "CROSS", "OUTER"):
            raise ValidationException("Only select from a single table or index is supported.")
        if self.token.is_word("AS") or (self.token.kind in ("word", "quoted") and not
                                        self.token.is_word("WHERE", "ORDER")):
            raise ValidationException("Aliasing is not supported")
        where = self.condition() if self.word("WHERE") else None
        order: list[tuple[str, bool]] = []
        if self.word("ORDER"):
            self.expect_word("BY")
            while True:
                key = self.name("a key attribute")
                descending = self.word("DESC")
                if not descending:
                    self.word("ASC")
                order.append((key, descending))
                if not self.punct(","):
                    break
        self.unsupported_clause()
        return ast.Select(table, index, projection, where, tuple(order))

    def unsupported_clause(self) -> None:
        """DynamoDB's messages for the SQL clauses it parses but does not run."""
        if self.token.is_word("GROUP"):
            raise ValidationException("Unsupported clause: GROUP BY")
        if self.token.is_word("HAVING", "LIMIT", "OFFSET"):
            raise ValidationException(f"Unsupported clause: {self.token.text.upper()}")
        if self.token.is_word("UNION", "INTERSECT", "EXCEPT"):
            raise malformed(f"{self.token.text.upper()} is not supported")

    def insert(self) -> ast.Insert:
        self.expect_word("INSERT")
        self.expect_word("INTO")
        table = self.table()
        if self.token.is_word("VALUES") or self.token.is_punct("("):
            raise malformed("Expected VALUE followed by one item, as in "
                            "INSERT INTO \"table\" VALUE {'key': 'value'}")
        self.expect_word("VALUE")
        if not self.token.is_punct("{"):
            # Not even a whole-item parameter: DynamoDB takes only the {...} form.
            raise ValidationException(
                "Unsupported format in item expression. Please use struct format {...} to "
                "express item values for insert statement.")
        item = self.value()
        if self.token.is_punct(","):
            raise malformed("Only one item can be inserted by a statement")
        if self.token.is_word("RETURNING"):
            raise ValidationException("RETURNING is not supported in INSERT")
        return ast.Insert(table, item)

    def update(self) -> ast.Update:
        self.expect_word("UPDATE")
        table = self.table()
        clauses: list[ast.SetClause | ast.RemoveClause] = []
        while True:
            if self.word("SET"):
                clauses.append(self.assignment())
                while self.punct(","):
                    clauses.append(self.assignment())
            elif self.word("REMOVE"):
                clauses.append(ast.RemoveClause(self.path()))
                while self.punct(","):
                    clauses.append(ast.RemoveClause(self.path()))
            else:
                break
        if not clauses:
            raise malformed(f"Expected SET or REMOVE, found {self.token.describe()}")
        self.expect_word("WHERE")
        where = self.condition()
        return ast.Update(table, tuple(clauses), where, self.returning())

    def assignment(self) -> ast.SetClause:
        path = self.path()
        self.expect_punct("=")
        value = self.operand(in_set=True)
        if self.token.is_punct("+", "-"):
            op = cast(Any, self.advance().text)
            value = ast.Arithmetic(op, value, self.operand(in_set=True))
        if isinstance(value, ast.Function) and value.name in ("set_add", "set_delete"):
            target, operand = value.args
            if target != path:
                raise ValidationException(f"The first argument to {value.name.upper()} must "
                                          "equal the assignment value")
            if not isinstance(operand, ast.Literal_ | ast.Parameter | ast.Collection) or (
                    isinstance(operand, ast.Literal_) and
                    next(iter(operand.value)) not in ("SS", "NS", "BS")):
                raise ValidationException(f"The second argument to {value.name.upper()} must "
                                          "be a value with type SET")
        return ast.SetClause(path, value)

    def delete(self) -> ast.Delete:
        self.expect_word("DELETE")
        self.expect_word("FROM")
        table = self.table()
        self.expect_word("WHERE")
        where = self.condition()
        returning = self.returning()
        if returning not in (None, "ALL_OLD"):
            written = returning.replace("UPDATED", "MODIFIED").replace("_", " ")
            raise ValidationException(
                f"Invalid returning clause: RETURNING {written} *. Only RETURNING ALL OLD * is "
                "allowed in DELETE statements.")
        return ast.Delete(table, where, returning)

    def returning(self) -> ast.Returning | None:
        if not self.word("RETURNING"):
            return None
        if self.word("ALL"):
            which = "ALL"
        elif self.word("MODIFIED"):
            which = "UPDATED"
        else:
            raise malformed(f"Expected ALL or MODIFIED after RETURNING, found "
                            f"{self.token.describe()}")
        if self.word("OLD"):
            when = "OLD"
        elif self.word("NEW"):
            when = "NEW"
        else:
            raise malformed(f"Expected OLD or NEW, found {self.token.describe()}")
        if not self.punct("*"):
            raise ValidationException(
                "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause")
        if self.token.is_punct(","):
            raise ValidationException(
                "Invalid syntax with multiple returning elements in RETURNING clause")
        return cast(ast.Returning, f"{which}_{when}")

def _distinct_projection(paths: list[ast.Path]) -> tuple[ast.Path, ...]:
    """DynamoDB names each projected path by its last attribute name and the list indexes after
    it, and refuses two paths of one name (``a.b, c.b``)."""
    seen: set[str] = set()
    for path in paths:
        name = ""
        for element in path.elements:
            name = name + f"[{element}]" if isinstance(element, int) else element
        if name in seen:
            raise ValidationException(f"Duplicate identifiers in select clause: {name}")
        seen.add(name)
    return tuple(paths)
