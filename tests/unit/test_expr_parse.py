"""Parser: grammar of all five expression kinds, syntax and text-only semantic errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from alternator.errors import ValidationException
from alternator.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Compare,
    DeleteAction,
    IfNotExists,
    In,
    Kind,
    ListAppend,
    NameRef,
    Not,
    Or,
    Path,
    Projection,
    RemoveAction,
    SetAction,
    Size,
    Update,
    ValueRef,
)
from alternator.expressions.parser import (
    MAX_PAREN_DEPTH,
    parse_condition,
    parse_projection,
    parse_update,
)
from alternator.expressions.reserved import RESERVED_WORDS, is_reserved


def error(fn: Callable[..., Any], *args: Any) -> str:
    with pytest.raises(ValidationException) as info:
        fn(*args)
    return info.value.message


A, B, C = Path(("a",)), Path(("b",)), Path(("c",))
V, W, X = ValueRef(":v"), ValueRef(":w"), ValueRef(":x")


# --- conditions: grammar ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "tree"), [
    ("a = :v", Compare("=", A, V)),
    ("a <> :v", Compare("<>", A, V)),
    ("a < :v", Compare("<", A, V)),
    ("a <= :v", Compare("<=", A, V)),
    ("a > :v", Compare(">", A, V)),
    ("a >= :v", Compare(">=", A, V)),
    ("a=:v", Compare("=", A, V)),
    ("  a\t=\n:v  ", Compare("=", A, V)),
    (":v = a", Compare("=", V, A)),
    (":v = :w", Compare("=", V, W)),
    ("a = b", Compare("=", A, B)),
    ("#n = :v", Compare("=", Path((NameRef("#n"),)), V)),
    ("a.b = :v", Compare("=", Path(("a", "b")), V)),
    ("a.b[3].c = :v", Compare("=", Path(("a", "b", 3, "c")), V)),
    ("#n[0] = :v", Compare("=", Path((NameRef("#n"), 0)), V)),
    ("a[1][2] = :v", Compare("=", Path(("a", 1, 2)), V)),
    ("a . b [ 1 ] = :v", Compare("=", Path(("a", "b", 1)), V)),
    ("#a.#b = :v", Compare("=", Path((NameRef("#a"), NameRef("#b"))), V)),
    ("a_1 = :v_1", Compare("=", Path(("a_1",)), ValueRef(":v_1"))),
    ("x_ = :1", Compare("=", Path(("x_",)), ValueRef(":1"))),
    ("a BETWEEN :v AND :w", Between(A, V, W)),
    ("a between :v and :w", Between(A, V, W)),
    ("a BeTwEeN :v aNd :w", Between(A, V, W)),
    ("a IN (:v)", In(A, (V,))),
    ("a IN (:v, :w, b)", In(A, (V, W, B))),
    ("a in (:v,:w)", In(A, (V, W))),
    ("size(a) = :v", Compare("=", Size(A), V)),
    ("size(a.b[1]) > :v", Compare(">", Size(Path(("a", "b", 1))), V)),
    (":v < size(a)", Compare("<", V, Size(A))),
    ("size(a) BETWEEN :v AND :w", Between(Size(A), V, W)),
    ("size(a) IN (:v)", In(Size(A), (V,))),
    ("attribute_exists(a)", Call("attribute_exists", (A,))),
    ("attribute_not_exists(#n)", Call("attribute_not_exists", (Path((NameRef("#n"),)),))),
    ("attribute_type(a, :v)", Call("attribute_type", (A, V))),
    ("begins_with(a, :v)", Call("begins_with", (A, V))),
    ("begins_with(:v, a)", Call("begins_with", (V, A))),
    ("contains(a, :v)", Call("contains", (A, V))),
    ("contains(a, b)", Call("contains", (A, B))),
    ("contains(a, size(b))", Call("contains", (A, Size(B)))),
    ("(a) = :v", Compare("=", A, V)),
    ("a = (:v)", Compare("=", A, V)),
    ("((a)) = :v", Compare("=", A, V)),
    ("(a = :v)", Compare("=", A, V)),
    ("((a) = :v)", Compare("=", A, V)),
    ("(size(a)) = :v", Compare("=", Size(A), V)),
    ("(attribute_exists(a))", Call("attribute_exists", (A,))),
])
def test_condition_grammar(text: str, tree: object) -> None:
    assert parse_condition(text) == tree


def test_precedence_not_and_or() -> None:
    # NOT binds tighter than AND, which binds tighter than OR.
    a, b, c = (Compare("=", p, V) for p in (A, B, C))
    assert parse_condition("a = :v OR b = :v AND c = :v") == Or((a, And((b, c))))
    assert parse_condition("a = :v AND b = :v OR c = :v") == Or((And((a, b)), c))
    assert parse_condition("NOT a = :v AND b = :v") == And((Not(a), b))
    assert parse_condition("NOT (a = :v AND b = :v)") == Not(And((a, b)))
    assert parse_condition("(a = :v OR b = :v) AND c = :v") == And((Or((a, b)), c))
    assert parse_condition("a = :v AND b = :v AND c = :v") == And((a, b, c))
    assert parse_condition("a = :v OR b = :v OR c = :v") == Or((a, b, c))
    assert parse_condition("NOT NOT a = :v") == Not(Not(a))
    assert parse_condition("not a = :v or not b = :v") == Or((Not(a), Not(b)))


def test_between_and_binds_inside_between() -> None:
    between = Between(A, V, W)
    assert parse_condition("a BETWEEN :v AND :w AND b = :x") == And(
        (between, Compare("=", B, X))
    )


def test_deeply_chained_conditions_do_not_recurse() -> None:
    text = " AND ".join(f"a{i}=:v" for i in range(340))
    tree = parse_condition(text)
    assert isinstance(tree, And) and len(tree.conditions) == 340
    assert isinstance(parse_condition("NOT " * MAX_PAREN_DEPTH + "a = :v"), Not)


def test_too_many_nots_are_a_syntax_error() -> None:
    # Each NOT is a level of the tree, bounded like parentheses (tests/test_nesting.py).
    with pytest.raises(ValidationException, match='Syntax error; token: "NOT"'):
        parse_condition("NOT " * (MAX_PAREN_DEPTH + 1) + "a = :v")


def test_nested_parentheses_are_linear() -> None:
    with pytest.raises(ValidationException, match="redundant parentheses"):
        parse_condition("(" * 60 + "a = :v" + ")" * 60)
    parse_condition("(" * 60 + "a" + ")" * 60 + " = :v")


# --- conditions: syntax errors ----------------------------------------------------------------


@pytest.mark.parametrize(("text", "token", "near"), [
    ("a =", "<EOF>", "="),
    ("a = ", "<EOF>", "="),
    ("a == :v", "=", "=="),
    ("a != :v", "!", "a !"),
    # A name (of an attribute or a function) starts with a letter, as in DynamoDB.
    ("_x = :v", "_", "_"),
    ("a = :v AND _f(a)", "_", "AND _"),
    ("a = :v AND", "<EOF>", "AND"),
    ("a = :v OR", "<EOF>", "OR"),
    ("a = :v b", "b", ":v b"),
    ("a", "<EOF>", "a"),
    (":v", "<EOF>", ":v"),
    ("= :v", "=", "="),
    ("a = :v)", ")", ":v)"),
    ("(a = :v", "<EOF>", ":v"),
    ("a IN ()", ")", "()"),
    ("a IN :v", ":v", "IN :v"),
    ("a BETWEEN :v", "<EOF>", ":v"),
    ("a BETWEEN :v OR :w", "OR", ":v OR"),
    ("a.[1] = :v", "[", ".["),
    ("a[x] = :v", "x", "[x"),
    ("a[-1] = :v", "-", "[-"),
    ("a. = :v", "=", ". ="),
    ("[1] = :v", "[", "["),
    ("a = :", ":", "= :"),
    ("a = #", "#", "= #"),
    ("a = :v AND AND b = :v", "AND", "AND AND"),
    ("a = and", "and", "= and"),
    ("between = :v", "between", "between"),
    ("a = :v NOT b = :w", "NOT", ":v NOT"),
    ("a + :v = b", "+", "a +"),
    ("attribute_exists()", ")", "()"),
    ("size(a) = :v $", "$", ":v $"),
])
def test_condition_syntax_errors(text: str, token: str, near: str) -> None:
    assert error(parse_condition, text) == (
        f'Invalid ConditionExpression: Syntax error; token: "{token}", near: "{near}"'
    )


@pytest.mark.parametrize("kind", [Kind.CONDITION, Kind.FILTER, Kind.KEY_CONDITION])
def test_error_prefix_names_the_kind(kind: Kind) -> None:
    assert error(parse_condition, "a =", kind).startswith(f"Invalid {kind.value}: Syntax error")
    assert error(parse_condition, "", kind) == (
        f"Invalid {kind.value}: The expression can not be empty;"
    )


def test_syntax_error_wins_over_semantic_errors() -> None:
    assert "Syntax error" in error(parse_condition, "foo(name) = :v AND")


# --- conditions: semantic errors --------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("size(a)", "The function is not allowed to be used this way in an expression; function: size"),
    ("NOT size(a)", "The function is not allowed to be used this way in an expression; "
     "function: size"),
    ("contains(a, :v) = :w", "The function is not allowed to be used this way in an "
     "expression; function: contains"),
    ("a = attribute_exists(b)", "The function is not allowed to be used this way in an "
     "expression; function: attribute_exists"),
    ("begins_with(a, contains(b, :v))", "The function is not allowed to be used this way in "
     "an expression; function: contains"),
    ("foo(a)", "Invalid function name; function: foo"),
    ("foo(a) = :v", "Invalid function name; function: foo"),
    ("SIZE(a) = :v", "Invalid function name; function: SIZE"),
    ("if_not_exists(a, :v) = :v",
     "The function is not allowed in a condition expression; function: if_not_exists"),
    ("list_append(a, :v) = :v",
     "The function is not allowed in a condition expression; function: list_append"),
    ("((a = :v))", "The expression has redundant parentheses;"),
    ("a = :v OR NOT ((a = :v))", "The expression has redundant parentheses;"),
    ("attribute_exists(a, b)", "Incorrect number of operands for operator or function; "
     "operator or function: attribute_exists, number of operands: 2"),
    ("attribute_not_exists(a, b)", "Incorrect number of operands for operator or function; "
     "operator or function: attribute_not_exists, number of operands: 2"),
    ("begins_with(a)", "Incorrect number of operands for operator or function; operator or "
     "function: begins_with, number of operands: 1"),
    ("contains(a, :v, :w)", "Incorrect number of operands for operator or function; operator "
     "or function: contains, number of operands: 3"),
    ("attribute_type(a)", "Incorrect number of operands for operator or function; operator or "
     "function: attribute_type, number of operands: 1"),
    ("size(a, b) = :v", "Incorrect number of operands for operator or function; operator or "
     "function: size, number of operands: 2"),
    ("attribute_exists(:v)", "Operator or function requires a document path; operator or "
     "function: attribute_exists"),
    ("attribute_not_exists(:v)", "Operator or function requires a document path; operator or "
     "function: attribute_not_exists"),
    ("attribute_type(:v, :w)", "Operator or function requires a document path; operator or "
     "function: attribute_type"),
    ("name = :v", "Attribute name is a reserved keyword; reserved keyword: name"),
    ("a.Size = :v", "Attribute name is a reserved keyword; reserved keyword: Size"),
    ("a = :v AND Year > :w", "Attribute name is a reserved keyword; reserved keyword: Year"),
    ("attribute_exists(comment)", "Attribute name is a reserved keyword; reserved keyword: "
     "comment"),
    # unknown functions are reported before reserved words, whatever their order
    ("name = :v AND foo(a)", "Invalid function name; function: foo"),
    ("a IN (" + ", ".join(f":v{i}" for i in range(101)) + ")",
     "The IN operator is provided with too many operands; number of operands: 101"),
    (".".join(["a"] * 33) + " = :v",
     "The document path has too many nesting levels; nesting levels: 33"),
])
def test_condition_semantic_errors(text: str, message: str) -> None:
    assert error(parse_condition, text) == "Invalid ConditionExpression: " + message


def test_in_with_100_operands_is_fine() -> None:
    tree = parse_condition("a IN (" + ", ".join(f":v{i}" for i in range(100)) + ")")
    assert isinstance(tree, In) and len(tree.options) == 100


def test_path_with_32_levels_is_fine() -> None:
    parse_condition(".".join(["a"] * 32) + " = :v")


def test_reserved_word_allowed_through_name_reference() -> None:
    assert parse_condition("#name = :v") == Compare("=", Path((NameRef("#name"),)), V)


def test_expression_size_limit() -> None:
    ok = "a = :v AND " + "b" * (4096 - len("a = :v AND  = :v")) + " = :v"
    assert len(ok) == 4096
    parse_condition(ok)
    too_long = ok + " "
    assert error(parse_condition, too_long) == (
        "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; "
        "expression size: 4097"
    )
    # the limit counts UTF-8 bytes
    assert "expression size: 4098" in error(parse_condition, "a = :v" + "\u00e9" * 2046)


def test_too_many_parentheses_is_refused_not_crashing() -> None:
    assert "Syntax error" in error(parse_condition, "(" * 150 + "a = :v" + ")" * 150)


# --- update expressions -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "tree"), [
    ("SET a = :v", Update(set=(SetAction(A, V),))),
    ("set a = :v", Update(set=(SetAction(A, V),))),
    ("SET a = :v, b = :w", Update(set=(SetAction(A, V), SetAction(B, W)))),
    ("SET a=:v,b=:w", Update(set=(SetAction(A, V), SetAction(B, W)))),
    ("SET a = b", Update(set=(SetAction(A, B),))),
    ("SET a = b + :v", Update(set=(SetAction(A, Arithmetic("+", B, V)),))),
    ("SET a = :v - b", Update(set=(SetAction(A, Arithmetic("-", V, B)),))),
    ("SET a = if_not_exists(a, :v)", Update(set=(SetAction(A, IfNotExists(A, V)),))),
    ("SET a = if_not_exists(b.c, d)",
     Update(set=(SetAction(A, IfNotExists(Path(("b", "c")), Path(("d",)))),))),
    ("SET a = list_append(a, :v)", Update(set=(SetAction(A, ListAppend(A, V)),))),
    ("SET a = list_append(:v, a)", Update(set=(SetAction(A, ListAppend(V, A)),))),
    ("SET a = list_append(if_not_exists(a, :v), :w)",
     Update(set=(SetAction(A, ListAppend(IfNotExists(A, V), W)),))),
    ("SET a = if_not_exists(a, :v) + :w",
     Update(set=(SetAction(A, Arithmetic("+", IfNotExists(A, V), W)),))),
    ("SET a.b[2] = :v", Update(set=(SetAction(Path(("a", "b", 2)), V),))),
    ("SET #n = :v", Update(set=(SetAction(Path((NameRef("#n"),)), V),))),
    ("REMOVE a", Update(remove=(RemoveAction(A),))),
    ("REMOVE a, b.c, d[1]",
     Update(remove=(RemoveAction(A), RemoveAction(Path(("b", "c"))), RemoveAction(Path(("d", 1)))))),
    ("ADD a :v", Update(add=(AddAction(A, V),))),
    ("ADD a :v, b :w", Update(add=(AddAction(A, V), AddAction(B, W)))),
    ("DELETE a :v", Update(delete=(DeleteAction(A, V),))),
    ("delete a :v, b :w", Update(delete=(DeleteAction(A, V), DeleteAction(B, W)))),
    ("SET a = :v REMOVE b ADD c :w DELETE d :x",
     Update(set=(SetAction(A, V),), remove=(RemoveAction(B),), add=(AddAction(C, W),),
            delete=(DeleteAction(Path(("d",)), X),))),
    ("DELETE d :x ADD c :w REMOVE b SET a = :v",
     Update(set=(SetAction(A, V),), remove=(RemoveAction(B),), add=(AddAction(C, W),),
            delete=(DeleteAction(Path(("d",)), X),))),
    ("remove b set a = :v", Update(set=(SetAction(A, V),), remove=(RemoveAction(B),))),
    ("  SET   a = :v  ", Update(set=(SetAction(A, V),))),
])
def test_update_grammar(text: str, tree: Update) -> None:
    assert parse_update(text) == tree


@pytest.mark.parametrize(("text", "token", "near"), [
    ("SET", "<EOF>", "SET"),
    ("SET a", "<EOF>", "a"),
    ("SET a =", "<EOF>", "="),
    ("SET a = :v,", "<EOF>", ","),
    ("SET a = :v + :w + :x", "+", ":w +"),
    ("SET a = :v b = :w", "b", ":v b"),
    ("a = :v", "a", "a"),
    ("UPDATE a = :v", "UPDATE", "UPDATE"),
    ("SET a = :v, REMOVE b", "b", "REMOVE b"),
    ("REMOVE a = :v", "=", "a ="),
    ("REMOVE :v", ":v", "REMOVE :v"),
    ("ADD a", "<EOF>", "a"),
    ("ADD a b", "b", "a b"),
    ("ADD a :v + :w", "+", ":v +"),
    ("DELETE a", "<EOF>", "a"),
    ("SET path = VALUE 1", "1", "VALUE 1"),
    ("SET a = (:v)", "(", "= ("),
    ("SET a[1 = :v", "=", "1 ="),
    ("SET a = :v AND b = :w", "AND", ":v AND"),
])
def test_update_syntax_errors(text: str, token: str, near: str) -> None:
    assert error(parse_update, text) == (
        f'Invalid UpdateExpression: Syntax error; token: "{token}", near: "{near}"'
    )


@pytest.mark.parametrize(("text", "message"), [
    ("SET a = :v SET b = :w", 'The "SET" section can only be used once in an update expression;'),
    ("REMOVE a REMOVE b", 'The "REMOVE" section can only be used once in an update expression;'),
    ("ADD a :v add b :w", 'The "ADD" section can only be used once in an update expression;'),
    ("DELETE a :v SET c = :v DELETE b :w",
     'The "DELETE" section can only be used once in an update expression;'),
    ("SET a = foo(b)", "Invalid function name; function: foo"),
    ("SET a = size(b)", "The function is not allowed in an update expression; function: size"),
    ("SET a = contains(b, :v)",
     "The function is not allowed in an update expression; function: contains"),
    ("SET a = if_not_exists(:v, a)",
     "Operator or function requires a document path; operator or function: if_not_exists"),
    ("SET a = if_not_exists(a)", "Incorrect number of operands for operator or function; "
     "operator or function: if_not_exists, number of operands: 1"),
    ("SET a = list_append(a, :v, :w)", "Incorrect number of operands for operator or "
     "function; operator or function: list_append, number of operands: 3"),
    ("SET name = :v", "Attribute name is a reserved keyword; reserved keyword: name"),
    ("REMOVE a.value", "Attribute name is a reserved keyword; reserved keyword: value"),
    ("SET a = b + counter", "Attribute name is a reserved keyword; reserved keyword: counter"),
    ("SET a = :v SET b = foo(c)", "Invalid function name; function: foo"),
])
def test_update_semantic_errors(text: str, message: str) -> None:
    assert error(parse_update, text) == "Invalid UpdateExpression: " + message


def test_update_empty_and_too_long() -> None:
    assert error(parse_update, "") == "Invalid UpdateExpression: The expression can not be empty;"
    assert "expression size: 4098" in error(parse_update, "SET " + "a" * 4091 + "=:v")


def test_update_keywords_usable_as_paths_after_syntax() -> None:
    # "set" as an attribute name parses (then fails as a reserved word, like DynamoDB).
    assert error(parse_update, "SET a = set") == (
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: set"
    )


# --- projection -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "paths"), [
    ("a", (A,)),
    ("a, b", (A, B)),
    ("a,b,c", (A, B, C)),
    ("a.b[1], #n", (Path(("a", "b", 1)), Path((NameRef("#n"),)))),
    ("a[0][1].b", (Path(("a", 0, 1, "b")),)),
    ("x1, y_2", (Path(("x1",)), Path(("y_2",)))),
])
def test_projection_grammar(text: str, paths: tuple[Path, ...]) -> None:
    assert parse_projection(text) == Projection(paths)


@pytest.mark.parametrize(("text", "message"), [
    ("a,", 'Syntax error; token: "<EOF>", near: ","'),
    ("a b", 'Syntax error; token: "b", near: "a b"'),
    (":v", 'Syntax error; token: ":v", near: ":v"'),
    ("size(a)", 'Syntax error; token: "(", near: "size("'),
    ("a, name", "Attribute name is a reserved keyword; reserved keyword: name"),
    ("", "The expression can not be empty;"),
])
def test_projection_errors(text: str, message: str) -> None:
    assert error(parse_projection, text) == "Invalid ProjectionExpression: " + message


# --- caching and the reserved list ------------------------------------------------------------


def test_parse_results_are_cached_by_text() -> None:
    text = "SET cached_attribute_xyz = :v"
    before = parse_update.cache_info()
    first = parse_update(text)
    second = parse_update(text)
    after = parse_update.cache_info()
    assert first is second
    assert after.hits - before.hits == 1
    assert after.misses - before.misses == 1


def test_condition_cache_is_per_kind() -> None:
    assert "KeyConditionExpression" in error(parse_condition, "a =", Kind.KEY_CONDITION)
    assert "FilterExpression" in error(parse_condition, "a =", Kind.FILTER)


def test_ast_is_immutable() -> None:
    tree = parse_condition("a = :v")
    with pytest.raises(AttributeError):
        tree.op = "<"  # type: ignore[misc]


@pytest.mark.parametrize("word", ["ABORT", "name", "Value", "size", "FLATTERN", "zone", "ttl"])
def test_reserved_words(word: str) -> None:
    assert is_reserved(word)


@pytest.mark.parametrize("word", ["a", "pk", "attribute_exists", "contains", "b1", "sizes"])
def test_not_reserved(word: str) -> None:
    assert not is_reserved(word)


def test_reserved_list_is_complete() -> None:
    assert len(RESERVED_WORDS) == 573
