"""Expression parameters of item requests, compiled once per request.

This is the seam between the operations and the pure expression package: it reads a request's
expression parameters (or their legacy equivalents), binds them with one :class:`Binder` so that
unused names and values are caught across all of them, and hands back objects the handlers
apply to items. Everything here runs before any storage access, so an invalid expression is
rejected even when the table is empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alternator import expressions as expr
from alternator import fields
from alternator.schema import TableSchema
from alternator.values import Item

_CONDITIONAL_OPERATORS = ("AND", "OR")


@dataclass(frozen=True, slots=True)
class ItemExpressions:
    """The compiled expressions of one PutItem, UpdateItem, DeleteItem or GetItem request."""

    condition: expr.Condition | None = None
    update: expr.Update | None = None
    projection: expr.Projection | None = None

    def holds(self, item: Item | None) -> bool:
        return self.condition is None or expr.evaluate(self.condition, item)

    def project(self, item: Item) -> Item:
        return item if self.projection is None else expr.project(self.projection, item)


def _condition(req: dict[str, Any], binder: expr.Binder) -> expr.Condition | None:
    text = fields.optional_str(req, "ConditionExpression")
    if text is not None:
        return binder.condition(text)
    expected = fields.optional_map(req, "Expected")
    operator = fields.optional_enum(req, "ConditionalOperator", _CONDITIONAL_OPERATORS)
    if expected is not None or operator is not None:
        return expr.expected_condition(expected, operator)
    return None


def _binder(req: dict[str, Any], expression_parameters: tuple[str, ...],
            legacy_parameters: tuple[str, ...]) -> expr.Binder:
    expr.check_parameter_styles(req, expression_parameters, legacy_parameters)
    return expr.Binder(fields.optional_map(req, "ExpressionAttributeNames"),
                       fields.optional_map(req, "ExpressionAttributeValues"))


def write_expressions(req: dict[str, Any]) -> ItemExpressions:
    """PutItem and DeleteItem: ConditionExpression (or Expected)."""
    binder = _binder(req, ("ConditionExpression",), ("Expected", "ConditionalOperator"))
    condition = _condition(req, binder)
    binder.finish()
    return ItemExpressions(condition=condition)


def update_expressions(req: dict[str, Any], table: TableSchema) -> ItemExpressions:
    """UpdateItem: UpdateExpression (or AttributeUpdates) and ConditionExpression (or Expected)."""
    binder = _binder(req, ("UpdateExpression", "ConditionExpression"),
                     ("AttributeUpdates", "Expected", "ConditionalOperator"))
    text = fields.optional_str(req, "UpdateExpression")
    update: expr.Update | None = None
    if text is not None:
        update = binder.update(text)
    else:
        legacy = fields.optional_map(req, "AttributeUpdates")
        if legacy is not None:
            update = expr.attribute_updates(legacy)
    condition = _condition(req, binder)
    binder.finish()
    if update is not None:
        expr.check_key_update(update, table.key_names)
    return ItemExpressions(condition=condition, update=update)


def read_expressions(req: dict[str, Any]) -> ItemExpressions:
    """GetItem: ProjectionExpression (or AttributesToGet)."""
    binder = _binder(req, ("ProjectionExpression",), ("AttributesToGet",))
    text = fields.optional_str(req, "ProjectionExpression")
    projection: expr.Projection | None = None
    if text is not None:
        projection = binder.projection(text)
    else:
        names = fields.optional_list(req, "AttributesToGet")
        if names is not None:
            projection = expr.attributes_to_get(names)
    binder.finish()
    return ItemExpressions(projection=projection)
