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
from alternator.partiql.lexer import Token, malformed, tokenize

MAX_STATEMENT_BYTES = 8192
MAX_LIST_INDEX = 2**31 - 1
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
MAX_DEPTH = 64

# Words that cannot be a bare attribute or table name (quote them: "value").
KEYWORDS = frozenset({
    "ALL", "AND", "AS", "ASC", "BETWEEN", "BY", "DELETE", "DESC", "DISTINCT", "EXISTS",
    "FALSE", "FROM", "GROUP", "HAVING", "IN", "INSERT", "INTO", "IS", "JOIN", "LIMIT",
    "MISSING", "MODIFIED", "NEW", "NOT", "NULL", "OFFSET", "OLD", "ON", "OR", "ORDER",
    "REMOVE", "RETURNING", "SELECT", "SET", "TRUE", "UNION", "UPDATE", "VALUE", "VALUES",
    "WHERE",
})
_COMPARATORS = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# Condition functions and how many arguments each takes.
_CONDITION_FUNCTIONS = {"BEGINS_WITH": ("begins_with", 2), "CONTAINS": ("contains", 2),
                        "ATTRIBUTE_TYPE": ("attribute_type", 2),
                        "ATTRIBUTE_EXISTS": ("attribute_exists", 1),
                        "ATTRIBUTE_NOT_EXISTS": ("attribute_not_exists", 1)}
_SET_FUNCTIONS = {"LIST_APPEND": "list_append", "SET_ADD": "set_add", "SET_DELETE": "set_delete",
                  "IF_NOT_EXISTS": "if_not_exists"}
# The types of ``IS``: MISSING, NULL, and those ATTRIBUTE_TYPE tests (ast.IS_TYPES).
_IS_TYPES = ("MISSING", "NULL", "BOOLEAN", "NUMERIC", "STRING", "BLOB", "STRUCT", "TUPLE",
             "LIST")


def parse(text: str) -> ast.Statement:
    if len(text.encode()) > MAX_STATEMENT_BYTES:
        raise ValidationException(
            "1 validation error detected: Value at 'statement' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_STATEMENT_BYTES}")
    return _Parser(tokenize(text)).statement()


class _Parser:
    def __init__(self, tokens: tuple[Token, ...]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.parameters = 0
        self.depth = 0

    # --- tokens -----------------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.token
        if token.kind != "eof":
            self.pos += 1
        return token

    def unexpected(self) -> ValidationException:
        token = self.token
        if token.kind == "eof":
            return malformed("Unexpected end of statement")
        return malformed(f"Unexpected token {token.describe()} at position {token.start + 1}")

    def word(self, *words: str) -> bool:
        if self.token.is_word(*words):
            self.advance()
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.word(word):
            raise malformed(f"Expected {word}, found {self.token.describe()}")

    def punct(self, *texts: str) -> bool:
        if self.token.is_punct(*texts):
            self.advance()
            return True
        return False

    def expect_punct(self, text: str) -> None:
        if not self.punct(text):
            raise malformed(f"Expected '{text}', found {self.token.describe()}")

    def name(self, what: str) -> str:
        token = self.token
        if token.kind == "quoted":
            self.advance()
            return token.text
        if token.kind == "word" and token.text.upper() not in KEYWORDS:
            self.advance()
            return token.text
        if token.kind == "word":
            raise malformed(f"Unexpected keyword {token.text} where {what} was expected "
                            '(quote a name that is a keyword: "name")')
        raise malformed(f"Expected {what}, found {token.describe()}")

    # --- statements -------------------------------------------------------------------------

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

    # --- conditions -------------------------------------------------------------------------

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise malformed("The statement is nested too deeply")

    def condition(self) -> ast.Condition:
        self.nested()
        parts = [self.conjunction()]
        while self.word("OR"):
            parts.append(self.conjunction())
        self.depth -= 1
        return parts[0] if len(parts) == 1 else ast.Or(tuple(parts))

    def conjunction(self) -> ast.Condition:
        parts = [self.negation()]
        while self.word("AND"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else ast.And(tuple(parts))

    def negation(self) -> ast.Condition:
        if self.word("NOT"):
            self.nested()
            inner = self.negation()
            self.depth -= 1
            return ast.Not(inner)
        return self.predicate()

    def predicate(self) -> ast.Condition:
        if self.punct("("):
            inner = self.condition()
            self.expect_punct(")")
            return inner
        token = self.token
        function = _CONDITION_FUNCTIONS.get(token.text.upper()) if token.kind == "word" else None
        if function is not None and self.peek().is_punct("("):
            self.advance()
            self.advance()
            args = [self.operand()]
            while self.punct(","):
                args.append(self.operand())
            self.expect_punct(")")
            name, arity = function
            if len(args) != arity:
                raise malformed(f"{token.text.upper()} takes {arity} argument"
                                f"{'s' if arity > 1 else ''}, not {len(args)}")
            if arity == 1 and not isinstance(args[0], ast.Path):
                raise malformed(f"{token.text.upper()} takes an attribute path")
            return ast.Call(cast(Any, name), tuple(args))
        if token.is_word("EXISTS"):
            raise malformed("EXISTS is supported only as a whole statement of ExecuteTransaction")
        left = self.operand()
        token = self.token
        if token.kind == "punct" and token.text in _COMPARATORS:
            self.advance()
            return ast.Compare(cast(Any, _COMPARATORS[token.text]), left, self.operand())
        negated = self.word("NOT")
        result: ast.Condition
        if self.word("BETWEEN"):
            low = self.operand()
            self.expect_word("AND")
            result = ast.Between(left, low, self.operand())
        elif self.word("IN"):
            result = ast.In(left, self.options())
        elif not negated and self.word("IS"):
            negated = self.word("NOT")
            if not isinstance(left, ast.Path):
                raise ValidationException("The left hand side argument to IS must be a "
                                          "Variable Reference, Literal, or Path")
            type_name = self.advance()
            if type_name.kind != "word":
                raise malformed(f"Expected a type after IS, found {type_name.describe()}")
            if type_name.text.upper() not in _IS_TYPES:
                raise ValidationException(
                    f"Unsupported data type for IS operator: {type_name.text.upper()}. "
                    "Supported data types are [MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, "
                    "STRUCT, TUPLE, LIST]")
            result = ast.Is(left, cast(Any, type_name.text.upper()))
        elif negated:
            raise malformed(f"Expected BETWEEN or IN after NOT, found {self.token.describe()}")
        else:
            # DynamoDB's message for a WHERE such as "a" or "size(a)".
            raise ValidationException(
                "WHERE clause must contain an expression that resolves to a boolean")
        return ast.Not(result) if negated else result

    def options(self) -> tuple[ast.Operand, ...]:
        closing = "]" if self.punct("[") else ")" if self.punct("(") else None
        if closing is None or self.token.is_punct(closing):
            raise ValidationException(
                "IN operator must have a left hand argument of type Variable Reference and "
                "right hand argument of type Seq with at least one member")
        options = [self.operand()]
        while self.punct(","):
            options.append(self.operand())
        self.expect_punct(closing)
        return tuple(options)

    # --- operands and values ----------------------------------------------------------------

    def operand(self, in_set: bool = False) -> ast.Operand:
        token = self.token
        if token.kind == "word" and self.peek().is_punct("("):
            upper = token.text.upper()
            if upper == "SIZE":
                self.advance()
                self.advance()
                path = self.path()
                self.expect_punct(")")
                return ast.Size(path)
            if in_set and upper in _SET_FUNCTIONS:
                self.advance()
                self.advance()
                args = [self.operand(in_set=True)]
                while self.punct(","):
                    args.append(self.operand(in_set=True))
                self.expect_punct(")")
                if len(args) != 2:
                    raise ValidationException(f"{upper} must have exactly two arguments")
                return ast.Function(cast(Any, _SET_FUNCTIONS[upper]), tuple(args))
            if upper in _SET_FUNCTIONS or upper in _CONDITION_FUNCTIONS:
                raise malformed(f"{upper} cannot be used here")
            raise ValidationException(f"Unrecognized function: {token.text}")
        if token.kind == "quoted" or (token.kind == "word" and token.text.upper() not in
                                      ("TRUE", "FALSE", "NULL", "MISSING")):
            return self.path()
        return self.value()

    def path(self) -> ast.Path:
        elements: list[ast.PathElement] = [self.path_name()]
        while True:
            if self.punct("."):
                if self.token.is_punct("*"):
                    raise ValidationException(
                        "Unpivot path component like a.*.b are not supported")
                elements.append(self.path_name())
            elif self.punct("["):
                token = self.advance()
                if token.kind == "number" and token.text.isdigit():
                    if int(token.text) > MAX_LIST_INDEX:
                        raise ValidationException("List index is not within the allowable "
                                                  f"range; index: [{token.text}]")
                    elements.append(int(token.text))
                elif token.kind == "string":
                    elements.append(self.checked_name(token.text))
                elif token.is_punct("*"):
                    raise ValidationException(
                        "Wildcard path component like a[*].b are not supported")
                else:
                    raise malformed(f"Expected a list index or a quoted key in [], found "
                                    f"{token.describe()}")
                self.expect_punct("]")
            else:
                return ast.Path(tuple(elements))

    def path_name(self) -> str:
        return self.checked_name(self.name("an attribute name"))

    @staticmethod
    def checked_name(name: str) -> str:
        if not name:
            raise ValidationException("Path component cannot be an empty string")
        return name

    def value(self) -> ast.Value:
        self.nested()
        token = self.advance()
        result: ast.Value
        if token.kind == "string":
            result = ast.Literal_({"S": token.text})
        elif token.kind == "number":
            result = ast.Literal_({"N": token.text})
        elif token.is_punct("-", "+") and self.token.kind == "number":
            number = self.advance().text
            result = ast.Literal_({"N": "-" + number if token.text == "-" else number})
        elif token.is_word("TRUE", "FALSE"):
            result = ast.Literal_({"BOOL": token.text.upper() == "TRUE"})
        elif token.is_word("NULL"):
            result = ast.Literal_({"NULL": True})
        elif token.is_word("MISSING"):
            raise ValidationException("MISSING must be compared using IS operator")
        elif token.is_punct("?"):
            result = ast.Parameter(self.parameters)
            self.parameters += 1
        elif token.is_punct("["):
            result = self.collection("L", self.members("]"))
        elif token.is_punct("<<"):
            result = self.collection("SET", self.members(">>"))
        elif token.is_punct("{"):
            result = self.map()
        else:
            self.pos -= 1 if token.kind != "eof" else 0
            raise malformed(f"Expected a value, found {token.describe()}")
        self.depth -= 1
        return result

    def members(self, closing: str) -> list[ast.Value]:
        members: list[ast.Value] = []
        if self.punct(closing):
            return members
        members.append(self.value())
        while self.punct(","):
            members.append(self.value())
        self.expect_punct(closing)
        return members

    def map(self) -> ast.Value:
        keys: list[str] = []
        members: list[ast.Value] = []
        if not self.punct("}"):
            while True:
                key = self.advance()
                if key.kind != "string":
                    raise malformed(f"Expected a quoted string as a map key, found "
                                    f"{key.describe()}")
                self.expect_punct(":")
                keys.append(key.text)
                members.append(self.value())
                if not self.punct(","):
                    break
            self.expect_punct("}")
        return self.collection("M", members, tuple(keys))

    @staticmethod
    def collection(kind: str, members: list[ast.Value], keys: tuple[str, ...] = ()
                   ) -> ast.Value:
        if len(set(keys)) != len(keys):
            duplicate = next(k for k in keys if keys.count(k) > 1)
            raise ValidationException(f"Duplicate keys in tuple. Key: {duplicate}")
        if all(isinstance(m, ast.Literal_) for m in members):
            values = [cast(ast.Literal_, m).value for m in members]
            return ast.Literal_(build(kind, values, keys))
        return ast.Collection(cast(Any, kind), tuple(members), keys)


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


def build(kind: str, values: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    """The AttributeValue of a list, map or set literal of these member values."""
    if kind == "L":
        return {"L": values}
    if kind == "M":
        return {"M": dict(zip(keys, values, strict=True))}
    if not values:
        # An empty set literal: validate_value turns {"SS": []} into DynamoDB's own message.
        return {"SS": []}
    types = {next(iter(v)) for v in values}
    if len(types) != 1 or not types <= {"S", "N", "B"}:
        raise malformed("A set holds only strings, only numbers or only binary values")
    kind_of = types.pop()
    return {kind_of + "S": [v[kind_of] for v in values]}
