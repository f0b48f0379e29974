"""The terms of PartiQL statements (pure): the token cursor, conditions, operands, paths and
values that every statement is built from; ``parser.py`` parses the statements around them.
"""

from __future__ import annotations

from typing import Any, cast

from alternator.errors import ValidationException
from alternator.partiql import ast
from alternator.partiql.lexer import Token, malformed

MAX_LIST_INDEX = 2**31 - 1
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



class TermParser:
    """A cursor over the tokens of one statement, and the parsing of its terms."""

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
