"""What every handler receives, and the table lookup they all share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from alternator.config import Config
from alternator.errors import ResourceNotFoundException
from alternator.schema import TableSchema, read_table_name
from alternator.storage import Storage


@dataclass(slots=True)
class RequestContext:
    storage: Storage
    config: Config
    username: str | None = None


Handler = Callable[[RequestContext, dict[str, Any]], Awaitable[dict[str, Any]]]


async def table_for(ctx: RequestContext, req: dict[str, Any]) -> TableSchema:
    """The table a request names; DynamoDB's ResourceNotFoundException if it does not exist."""
    name = read_table_name(req)
    schema = await ctx.storage.get_table(name)
    if schema is None:
        raise ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")
    return schema
