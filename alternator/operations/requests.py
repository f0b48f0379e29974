"""Expression parameters of item requests, compiled once per request.

This is the seam between the operations and the pure expression package: it reads the
expression (and legacy) parameters of a request, binds them, and hands back objects the
handlers apply to items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alternator import fields
from alternator.errors import ValidationException
from alternator.schema import TableSchema
from alternator.values import Item


@dataclass(frozen=True, slots=True)
class Condition:
    """A request's ConditionExpression (or legacy Expected), ready to evaluate."""

    text: str

    @classmethod
    def from_request(cls, req: dict[str, Any], table: TableSchema) -> Condition | None:
        text = fields.optional_str(req, "ConditionExpression")
        if text is None and req.get("Expected") is None:
            return None
        raise ValidationException("ConditionExpression is not supported yet")

    def holds(self, item: Item | None) -> bool:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class ReadProjection:
    """Which attributes a read returns (ProjectionExpression or legacy AttributesToGet)."""

    names: tuple[str, ...] | None

    @classmethod
    def from_request(cls, req: dict[str, Any]) -> ReadProjection:
        attrs = fields.optional_list(req, "AttributesToGet")
        if attrs is not None:
            return cls(tuple(attrs))
        if fields.optional_str(req, "ProjectionExpression") is not None:
            raise ValidationException("ProjectionExpression is not supported yet")
        return cls(None)

    def apply(self, item: Item) -> Item:
        if self.names is None:
            return item
        return {n: item[n] for n in self.names if n in item}
