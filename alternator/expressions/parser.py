"""One recursive-descent parser for all five expression kinds.

Parsing depends only on the text (and the kind, which names the expression in messages), so the
results are cached by text: ``parse_condition.cache_info()`` shows the hits.

Errors come in DynamoDB's order: a syntax error anywhere wins; then, among the checks that need
only the text, unknown function names, misused functions, reserved words, duplicate update
sections, then the rest (operand counts, document paths required, nesting levels, IN size).
Checks that need ExpressionAttributeNames/Values happen later, when binding (``bind.py``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, NoReturn, cast

from alternator.errors import ValidationException
from alternator.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Comparator,
    Compare,
    Condition,
    ConditionFunction,
    DeleteAction,
    IfNotExists,
    In,
    Kind,
    ListAppend,
    NameRef,
    Not,
    Operand,
    Or,
    Path,
    Projection,
    RemoveAction,
    SetAction,
    Size,
    Update,
    ValueRef,
)
from alternator.expressions.lexer import Token, tokenize
from alternator.expressions.reserved import is_reserved
from alternator.values import MAX_NESTING_DEPTH

MAX_EXPRESSION_BYTES = 4096
MAX_IN_OPERANDS = 100
# Parentheses, NOTs and nested function calls deeper than this are refused as a syntax error at
# the offending token; it keeps every recursive pass over the tree (bind, checks, evaluate)
# bounded (DynamoDB's own limit is not documented). tests/test_nesting.py pins it.
MAX_PAREN_DEPTH = 100

CONDITION_FUNCTIONS: dict[str, int] = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
UPDATE_FUNCTIONS: dict[str, int] = {"if_not_exists": 2, "list_append": 2}
_PATH_FUNCTIONS = ("attribute_exists", "attribute_not_exists", "attribute_type")
_COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_CONDITION_KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN"})
_CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")

# Priorities of the text-only semantic errors (lowest reported first).
_UNKNOWN_FUNCTION, _MISUSED_FUNCTION, _RESERVED, _DUPLICATE_SECTION, _OTHER = range(5)


class _SyntaxError(ValidationException):
    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


def _prefix(kind: Kind) -> str:
    return f"Invalid {kind.value}: "


def _check_size(text: str, kind: Kind) -> None:
    if not text:
        raise ValidationException(_prefix(kind) + "The expression can not be empty;")
    size = len(text.encode())
    if size > MAX_EXPRESSION_BYTES:
        raise ValidationException(
            _prefix(kind)
            + f"Expression size has exceeded the maximum allowed size; expression size: {size}"
        )


_Memo = tuple[Condition, int, int, list[tuple[int, str]]] | _SyntaxError


class _Parser:
    def __init__(self, text: str, kind: Kind) -> None:
        self.text = text
        self.kind = kind
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0
        self.errors: list[tuple[int, str]] = []
        self.memo: dict[int, _Memo] = {}
        # (start, end) token positions of every parenthesized condition parsed so far, to
        # recognise a group directly inside another one.
        self.groups: set[tuple[int, int]] = set()

    # --- plumbing ---------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "eof":
            self.pos += 1
        return token

    def fail(self) -> NoReturn:
        """A syntax error at the current token, with DynamoDB's "near" context."""
        token = self.tokens[self.pos]
        if self.pos == 0:
            near = token.text
        else:
            previous = self.tokens[self.pos - 1]
            near = self.text[previous.start:token.end].rstrip()
        raise _SyntaxError(
            _prefix(self.kind) + f'Syntax error; token: "{token.text}", near: "{near}"',
            self.pos,
        )

    def expect(self, punct: str) -> None:
        if not self.peek().is_punct(punct):
            self.fail()
        self.advance()

    def note(self, priority: int, message: str) -> None:
        self.errors.append((priority, message))

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_PAREN_DEPTH:
            self.fail()

    def leave(self) -> None:
        self.depth -= 1

    def done(self) -> None:
        if self.peek().kind != "eof":
            self.fail()
        if self.errors:
            best = min(self.errors, key=lambda e: e[0])
            raise ValidationException(_prefix(self.kind) + best[1])

    # --- paths and operands -----------------------------------------------------------------

    def path(self) -> Path:
        elements: list[str | int | NameRef] = [self.path_name()]
        while True:
            token = self.peek()
            if token.is_punct("."):
                self.advance()
                elements.append(self.path_name())
            elif token.is_punct("["):
                self.advance()
                number = self.peek()
                if number.kind != "number":
                    self.fail()
                self.advance()
                self.expect("]")
                elements.append(int(number.text))
            else:
                break
        if len(elements) > MAX_NESTING_DEPTH:
            self.note(
                _OTHER,
                "The document path has too many nesting levels; nesting levels: "
                f"{len(elements)}",
            )
        return Path(tuple(elements))

    def path_name(self) -> str | NameRef:
        token = self.peek()
        if token.kind == "hashname":
            self.advance()
            return NameRef(token.text)
        if token.kind != "name":
            self.fail()
        if self.kind is not Kind.UPDATE and token.text.upper() in _CONDITION_KEYWORDS:
            self.fail()
        self.advance()
        if is_reserved(token.text):
            self.note(
                _RESERVED, f"Attribute name is a reserved keyword; reserved keyword: {token.text}"
            )
        return token.text

    def arguments(self, parse_argument: str) -> tuple[Token, list[Operand]]:
        """``name ( arg, ... )`` with each argument parsed by the named method."""
        name = self.advance()
        self.expect("(")
        self.enter()
        parse = self.operand if parse_argument == "operand" else self.update_term
        args = [parse()]
        while self.peek().is_punct(","):
            self.advance()
            args.append(parse())
        self.expect(")")
        self.leave()
        return name, args

    def check_arity(self, name: str, args: list[Operand], expected: int) -> bool:
        if len(args) != expected:
            self.note(
                _OTHER,
                "Incorrect number of operands for operator or function; operator or function: "
                f"{name}, number of operands: {len(args)}",
            )
            return False
        return True

    def require_path(self, name: str, operand: Operand) -> Path:
        if not isinstance(operand, Path):
            self.note(
                _OTHER,
                f"Operator or function requires a document path; operator or function: {name}",
            )
            return Path(("",))
        return operand

    def operand(self) -> Operand:
        """An operand of a condition: a path, a :value, size(...) or one in parentheses."""
        token = self.peek()
        if token.is_punct("("):
            self.advance()
            self.enter()
            inner = self.operand()
            self.expect(")")
            self.leave()
            return inner
        if token.kind == "value":
            self.advance()
            return ValueRef(token.text)
        if token.kind == "name" and self.peek(1).is_punct("("):
            name, args = self.arguments("operand")
            return self.function_operand(name.text, args)
        if token.kind in ("name", "hashname"):
            return self.path()
        self.fail()

    def function_operand(self, name: str, args: list[Operand]) -> Operand:
        if name == "size":
            if self.check_arity(name, args, 1):
                return Size(args[0])
        elif name in CONDITION_FUNCTIONS:
            self.note(
                _MISUSED_FUNCTION,
                f"The function is not allowed to be used this way in an expression; function: "
                f"{name}",
            )
        else:
            self.unknown_in_condition(name)
        return Path(("",))

    def unknown_in_condition(self, name: str) -> None:
        if name in UPDATE_FUNCTIONS:
            self.note(
                _MISUSED_FUNCTION,
                f"The function is not allowed in a condition expression; function: {name}",
            )
        else:
            self.note(_UNKNOWN_FUNCTION, f"Invalid function name; function: {name}")

    # --- conditions -------------------------------------------------------------------------

    def condition(self) -> Condition:
        items = [self.conjunction()]
        while self.peek().is_keyword("OR"):
            self.advance()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def conjunction(self) -> Condition:
        items = [self.negation()]
        while self.peek().is_keyword("AND"):
            self.advance()
            items.append(self.negation())
        return items[0] if len(items) == 1 else And(tuple(items))

    def negation(self) -> Condition:
        count = 0
        while self.peek().is_keyword("NOT"):
            self.enter()  # each NOT is one more level of the tree
            self.advance()
            count += 1
        result = self.primary()
        for _ in range(count):
            result = Not(result)
            self.leave()
        return result

    def primary(self) -> Condition:
        start = self.pos
        cached = self.memo.get(start)
        if cached is None:
            errors_before = len(self.errors)
            try:
                node = self.primary_uncached()
                cached = (node, self.pos, self.depth, self.errors[errors_before:])
            except _SyntaxError as error:
                cached = error
            self.memo[start] = cached
            self.errors = self.errors[:errors_before]
            self.pos = start
        if isinstance(cached, _SyntaxError):
            raise cached
        node, self.pos, self.depth, new_errors = cached
        self.errors.extend(new_errors)
        return node

    def primary_uncached(self) -> Condition:
        if not self.peek().is_punct("("):
            return self.comparison()
        # "(" opens either a parenthesized condition or a parenthesized operand, as in
        # "(a) = :v": try the condition first, then the comparison, keeping whichever parse
        # got further.
        start, depth, errors_before = self.pos, self.depth, len(self.errors)
        inner_error: _SyntaxError | None = None
        inner: Condition | None = None
        try:
            self.advance()
            self.enter()
            inner = self.condition()
            self.expect(")")
            self.leave()
            if not self.at_comparison_operator():
                self.groups.add((start, self.pos))
                if (start + 1, self.pos - 1) in self.groups:
                    self.note(_OTHER, "The expression has redundant parentheses;")
                return inner
        except _SyntaxError as error:
            inner_error = error
        after = (self.pos, self.depth, self.errors[errors_before:])
        self.pos, self.depth, self.errors = start, depth, self.errors[:errors_before]
        try:
            return self.comparison()
        except _SyntaxError as error:
            if inner_error is None:
                assert inner is not None
                self.pos, self.depth = after[0], after[1]
                self.errors.extend(after[2])
                return inner
            raise max(inner_error, error, key=lambda e: e.position) from None

    def at_comparison_operator(self) -> bool:
        token = self.peek()
        return (token.kind == "punct" and token.text in _COMPARATORS) or token.is_keyword(
            "BETWEEN"
        ) or token.is_keyword("IN")

    def comparison(self) -> Condition:
        token = self.peek()
        if token.kind == "name" and self.peek(1).is_punct("("):
            name, args = self.arguments("operand")
            if not self.at_comparison_operator():
                return self.function_condition(name.text, args)
            left = self.function_operand(name.text, args)
        else:
            left = self.operand()
        token = self.peek()
        if token.kind == "punct" and token.text in _COMPARATORS:
            self.advance()
            return Compare(cast(Comparator, token.text), left, self.operand())
        if token.is_keyword("BETWEEN"):
            self.advance()
            low = self.operand()
            if not self.peek().is_keyword("AND"):
                self.fail()
            self.advance()
            return Between(left, low, self.operand())
        if token.is_keyword("IN"):
            self.advance()
            self.expect("(")
            options = [self.operand()]
            while self.peek().is_punct(","):
                self.advance()
                options.append(self.operand())
            self.expect(")")
            if len(options) > MAX_IN_OPERANDS:
                self.note(
                    _OTHER,
                    "The IN operator is provided with too many operands; number of operands: "
                    f"{len(options)}",
                )
            return In(left, tuple(options))
        self.fail()

    def function_condition(self, name: str, args: list[Operand]) -> Condition:
        if name in CONDITION_FUNCTIONS:
            if self.check_arity(name, args, CONDITION_FUNCTIONS[name]):
                # size(:v) or size(size(..)) in place of the path: DynamoDB reports a size of a
                # type it cannot measure first (checks.py), so the path check waits for it.
                first = args[0]
                deferred = isinstance(first, Size) and not isinstance(first.operand, Path)
                if name in _PATH_FUNCTIONS and not deferred:
                    args[0] = self.require_path(name, args[0])
                return Call(cast(ConditionFunction, name), tuple(args))
        elif name == "size":
            self.note(
                _MISUSED_FUNCTION,
                "The function is not allowed to be used this way in an expression; function: size",
            )
        else:
            self.unknown_in_condition(name)
        return And(())

    # --- update expressions -----------------------------------------------------------------

    def update(self) -> Update:
        sections: dict[str, list[SetAction | RemoveAction | AddAction | DeleteAction]] = {}
        if self.peek().kind == "eof":
            self.fail()
        while self.peek().kind != "eof":
            token = self.peek()
            clause = token.text.upper() if token.kind == "name" else ""
            if clause not in _CLAUSES:
                self.fail()
            self.advance()
            if clause in sections:
                self.note(
                    _DUPLICATE_SECTION,
                    f'The "{clause}" section can only be used once in an update expression;',
                )
            actions = sections.setdefault(clause, [])
            actions.append(self.update_action(clause))
            while self.peek().is_punct(","):
                self.advance()
                actions.append(self.update_action(clause))
        return Update(
            set=tuple(a for a in sections.get("SET", ()) if isinstance(a, SetAction)),
            remove=tuple(a for a in sections.get("REMOVE", ()) if isinstance(a, RemoveAction)),
            add=tuple(a for a in sections.get("ADD", ()) if isinstance(a, AddAction)),
            delete=tuple(a for a in sections.get("DELETE", ()) if isinstance(a, DeleteAction)),
        )

    def update_action(self, clause: str) -> SetAction | RemoveAction | AddAction | DeleteAction:
        path = self.path()
        if clause == "SET":
            self.expect("=")
            return SetAction(path, self.set_value())
        if clause == "REMOVE":
            return RemoveAction(path)
        token = self.peek()
        if token.kind != "value":
            self.fail()
        self.advance()
        value = ValueRef(token.text)
        return AddAction(path, value) if clause == "ADD" else DeleteAction(path, value)

    def set_value(self) -> Operand:
        left = self.update_term()
        token = self.peek()
        if token.is_punct("+") or token.is_punct("-"):
            self.advance()
            op: Literal["+", "-"] = "+" if token.text == "+" else "-"
            return Arithmetic(op, left, self.update_term())
        return left

    def update_term(self) -> Operand:
        token = self.peek()
        if token.kind == "value":
            self.advance()
            return ValueRef(token.text)
        if token.kind == "name" and self.peek(1).is_punct("("):
            name, args = self.arguments("update_term")
            return self.update_function(name.text, args)
        if token.kind in ("name", "hashname"):
            return self.path()
        self.fail()

    def update_function(self, name: str, args: list[Operand]) -> Operand:
        if name in UPDATE_FUNCTIONS:
            if self.check_arity(name, args, 2):
                if name == "if_not_exists":
                    return IfNotExists(self.require_path(name, args[0]), args[1])
                if any(isinstance(arg, ListAppend) for arg in args):
                    # DynamoDB refuses list_append nested in list_append (though it accepts
                    # if_not_exists inside it).
                    self.note(
                        _MISUSED_FUNCTION,
                        "The function is not allowed to be used this way in an expression; "
                        "function: list_append",
                    )
                return ListAppend(args[0], args[1])
        elif name in CONDITION_FUNCTIONS or name == "size":
            self.note(
                _MISUSED_FUNCTION,
                f"The function is not allowed in an update expression; function: {name}",
            )
        else:
            self.note(_UNKNOWN_FUNCTION, f"Invalid function name; function: {name}")
        return Path(("",))

    # --- projection -------------------------------------------------------------------------

    def projection(self) -> Projection:
        paths = [self.path()]
        while self.peek().is_punct(","):
            self.advance()
            paths.append(self.path())
        return Projection(tuple(paths))


@lru_cache(maxsize=1024)
def parse_condition(text: str, kind: Kind = Kind.CONDITION) -> Condition:
    """Parse a Condition-, Filter- or KeyConditionExpression (one grammar for the three)."""
    _check_size(text, kind)
    parser = _Parser(text, kind)
    result = parser.condition()
    parser.done()
    return result


@lru_cache(maxsize=1024)
def parse_update(text: str) -> Update:
    _check_size(text, Kind.UPDATE)
    parser = _Parser(text, Kind.UPDATE)
    result = parser.update()
    parser.done()
    return result


@lru_cache(maxsize=1024)
def parse_projection(text: str) -> Projection:
    _check_size(text, Kind.PROJECTION)
    parser = _Parser(text, Kind.PROJECTION)
    result = parser.projection()
    parser.done()
    return result
