"""Applying a bound UpdateExpression: ``apply_update(update, old_item) -> new_item``.

Pure: the input item is never modified; only the containers along a changed path are copied,
everything else is shared with the input. The function may run more than once under contention.

Semantics (pinned by tests/unit/test_expr_update.py):
- every SET value is computed from the *old* item, then SET, REMOVE, ADD and DELETE are applied;
- SET of a list index past the end appends; REMOVE of list elements shifts the rest (several
  indexes of one list all refer to the old positions);
- ADD to a missing attribute stores the operand; ADD of numbers sums, of sets unites;
- DELETE removes set elements; a set left empty removes the attribute;
- a nested path whose parent is missing or is not a map/list fails with "The document path
  provided in the update expression is invalid for update".
"""

from __future__ import annotations

import decimal
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from alternator.errors import ValidationException
from alternator.expressions.ast import (
    Arithmetic,
    IfNotExists,
    ListAppend,
    Operand,
    Path,
    PathElement,
    Size,
    Update,
    Value,
    ValueRef,
)
from alternator.expressions.evaluate import get_path
from alternator.expressions.projection import project_paths
from alternator.values import NUMBER_CONTEXT, check_number, decode_binary, format_number

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

INVALID_PATH = "The document path provided in the update expression is invalid for update"
INCORRECT_TYPE = "An operand in the update expression has an incorrect data type"
MISSING_ATTRIBUTE = (
    "The provided expression refers to an attribute that does not exist in the item"
)
_SET_TYPES = ("SS", "NS", "BS")


def apply_update(update: Update, item: Item | None) -> Item:
    """The item after ``update``; ``item`` None means the item does not exist yet."""
    old: Item = item if item is not None else {}
    assignments = [(a.path.bound(), set_value(a.value, old)) for a in update.set]
    new: Item = dict(old)
    for elements, value in assignments:
        _put(new, elements, value)
    # Several REMOVEs in one list: remove the highest index first so that each index still
    # names the element it named in the old item.
    for elements in sorted((a.path.bound() for a in update.remove), key=_sort_key, reverse=True):
        _remove(new, elements)
    for add in update.add:
        elements = add.path.bound()
        _put(new, elements, _add(get_path(new, elements), _constant(add.value)))
    for delete in update.delete:
        elements = delete.path.bound()
        remaining = _delete(get_path(new, elements), _constant(delete.value))
        if remaining is None:
            _remove(new, elements)
        else:
            _put(new, elements, remaining)
    return new


def _sort_key(elements: tuple[PathElement, ...]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, e, "") if isinstance(e, int) else (1, 0, e) for e in elements)


def _constant(operand: Operand) -> AttributeValue:
    assert isinstance(operand, Value), "ADD and DELETE take a value"
    return operand.value


# --- SET values -------------------------------------------------------------------------------


def set_value(operand: Operand, item: Item) -> AttributeValue:
    """The value a SET action's right-hand side computes from the (old) item."""
    match operand:
        case Value(value):
            return value
        case Path():
            found = get_path(item, operand.bound())
            if found is None:
                raise ValidationException(MISSING_ATTRIBUTE)
            return found
        case IfNotExists(path, default):
            found = get_path(item, path.bound())
            return found if found is not None else set_value(default, item)
        case ListAppend(first, second):
            a, b = set_value(first, item), set_value(second, item)
            if "L" not in a or "L" not in b:
                raise ValidationException(INCORRECT_TYPE)
            return {"L": [*a["L"], *b["L"]]}
        case Arithmetic(op, left, right):
            x, y = set_value(left, item), set_value(right, item)
            if "N" not in x or "N" not in y:
                raise ValidationException(INCORRECT_TYPE)
            return {"N": _arithmetic(op, Decimal(x["N"]), Decimal(y["N"]))}
        case Size() | ValueRef():
            raise AssertionError(f"not a bound SET value: {operand}")
    raise AssertionError(operand)


# The same context, but a result that 38 digits cannot hold exactly is an error, not rounded.
_EXACT_CONTEXT = NUMBER_CONTEXT.copy()
_EXACT_CONTEXT.traps[decimal.Inexact] = True
# DynamoDB's message for a sum or difference that needs more than 38 significant digits (it is
# the one for a too large magnitude): tests/test_condition_exactness.py.
NUMBER_OVERFLOW = (
    "Number overflow. Attempting to store a number with magnitude larger than supported range"
)


def _arithmetic(op: str, x: Decimal, y: Decimal) -> str:
    try:
        result = _EXACT_CONTEXT.add(x, y) if op == "+" else _EXACT_CONTEXT.subtract(x, y)
    except decimal.Inexact:
        raise ValidationException(NUMBER_OVERFLOW) from None
    return format_number(check_number(result))


# --- ADD and DELETE ---------------------------------------------------------------------------


def _add(current: AttributeValue | None, operand: AttributeValue) -> AttributeValue:
    kind = next(iter(operand))
    if kind != "N" and kind not in _SET_TYPES:
        raise ValidationException(INCORRECT_TYPE)
    if current is None:
        return operand
    if kind not in current:
        raise ValidationException(INCORRECT_TYPE)
    if kind == "N":
        return {"N": _arithmetic("+", Decimal(current["N"]), Decimal(operand["N"]))}
    seen = {_member_key(kind, m) for m in current[kind]}
    added = [m for m in operand[kind] if _member_key(kind, m) not in seen]
    return {kind: [*current[kind], *added]} if added else current


def _delete(current: AttributeValue | None, operand: AttributeValue) -> AttributeValue | None:
    """The set left after DELETE; None when the attribute is (or becomes) absent."""
    kind = next(iter(operand))
    if kind not in _SET_TYPES:
        raise ValidationException(INCORRECT_TYPE)
    if current is None:
        return None
    if kind not in current:
        raise ValidationException(INCORRECT_TYPE)
    removed = {_member_key(kind, m) for m in operand[kind]}
    left = [m for m in current[kind] if _member_key(kind, m) not in removed]
    if not left:
        return None
    return {kind: left} if len(left) != len(current[kind]) else current


def _member_key(kind: str, member: str) -> object:
    if kind == "NS":
        return Decimal(member).normalize(NUMBER_CONTEXT)
    if kind == "BS":
        return decode_binary(member)
    return member


# --- copy-on-write path updates ---------------------------------------------------------------


def _put(item: Item, elements: tuple[PathElement, ...], value: AttributeValue) -> None:
    """Store ``value`` at ``elements`` in ``item`` (a fresh top-level copy we own)."""
    head = elements[0]
    assert isinstance(head, str)
    if len(elements) == 1:
        item[head] = value
        return
    item[head] = _put_in(item.get(head), elements[1:], value)


def _put_in(
    container: AttributeValue | None, elements: tuple[PathElement, ...], value: AttributeValue
) -> AttributeValue:
    element, rest = elements[0], elements[1:]
    if container is None:
        raise ValidationException(INVALID_PATH)
    if isinstance(element, int):
        if "L" not in container:
            raise ValidationException(INVALID_PATH)
        items = list(container["L"])
        if rest:
            if element >= len(items):
                raise ValidationException(INVALID_PATH)
            items[element] = _put_in(items[element], rest, value)
        elif element < len(items):
            items[element] = value
        else:
            items.append(value)
        return {"L": items}
    if "M" not in container:
        raise ValidationException(INVALID_PATH)
    members = dict(container["M"])
    members[element] = _put_in(members.get(element), rest, value) if rest else value
    return {"M": members}


def _remove(item: Item, elements: tuple[PathElement, ...]) -> None:
    head = elements[0]
    assert isinstance(head, str)
    if len(elements) == 1:
        item.pop(head, None)
        return
    current = item.get(head)
    if current is None:
        return
    changed = _remove_in(current, elements[1:])
    if changed is not current:
        item[head] = changed


def _remove_in(container: AttributeValue, elements: tuple[PathElement, ...]) -> AttributeValue:
    """``container`` without the value at ``elements``; the same object when nothing changes."""
    element, rest = elements[0], elements[1:]
    if isinstance(element, int):
        if "L" not in container:
            raise ValidationException(INVALID_PATH)
        items = container["L"]
        if element >= len(items):
            return container
        if not rest:
            return {"L": [*items[:element], *items[element + 1:]]}
        changed = _remove_in(items[element], rest)
        if changed is items[element]:
            return container
        return {"L": [*items[:element], changed, *items[element + 1:]]}
    if "M" not in container:
        raise ValidationException(INVALID_PATH)
    members = container["M"]
    if element not in members:
        return container
    if not rest:
        return {"M": {k: v for k, v in members.items() if k != element}}
    changed = _remove_in(members[element], rest)
    if changed is members[element]:
        return container
    return {"M": {**members, element: changed}}


# --- what an update touches -------------------------------------------------------------------


def updated_paths(update: Update) -> tuple[tuple[PathElement, ...], ...]:
    """The document paths an update writes, in the order of its actions."""
    return tuple(action.path.bound() for action in update.actions)


def returned_attributes(update: Update, item: Item | None) -> Item:
    """ReturnValues UPDATED_OLD (pass the old item) or UPDATED_NEW (pass the new item): the
    attributes the update touched, projected by path as DynamoDB returns them."""
    if item is None:
        return {}
    return project_paths(item, updated_paths(update))


def check_key_update(update: Update, key_attributes: Collection[str]) -> None:
    """Refuse an update of a key attribute (DynamoDB: keys are immutable)."""
    for action in update.actions:
        if action.path.head in key_attributes:
            raise ValidationException(
                "One or more parameter values were invalid: Cannot update attribute "
                f"{action.path.head}. This attribute is part of the key"
            )
