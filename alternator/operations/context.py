"""What every handler receives, and the table lookup they all share."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from alternator.auth import permissions
from alternator.auth.credentials import Principal, RoleCache
from alternator.config import Config
from alternator.errors import ResourceNotFoundException
from alternator.metrics import usage
from alternator.operations.config_table import LiveOptions
from alternator.schema import TableSchema, read_table_name
from alternator.storage import ALL_KEYSPACES, Storage
from alternator.values import Item

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """One request being served, for ``system.clients``."""

    address: str
    port: int
    ssl_enabled: bool
    shard_id: int
    driver_name: str
    username: str | None

    def item(self) -> Item:
        item: Item = {
            "client_type": {"S": "alternator"},
            # ScyllaDB's stage for a request being served (its CQL clients go on to READY).
            "connection_stage": {"S": "ESTABLISHED"},
            "address": {"S": self.address},
            "port": {"N": str(self.port)},
            "ssl_enabled": {"BOOL": self.ssl_enabled},
            "shard_id": {"N": str(self.shard_id)},
            "driver_name": {"S": self.driver_name},
            "scheduling_group": {"S": "statement"},
        }
        if self.username is not None:
            item["username"] = {"S": self.username}
        return item


@dataclass(slots=True)
class Counters:
    """Requests --alternator-warn-authorization let through although they would be refused."""

    authentication_warnings: int = 0
    authorization_warnings: int = 0


@dataclass(slots=True)
class RequestContext:
    storage: Storage
    config: Config
    # The authenticated role; None when authorization is switched off.
    principal: Principal | None = None
    roles: RoleCache | None = None
    # The requests this process is serving right now (for system.clients).
    clients: Callable[[], list[ClientInfo]] = list
    counters: Counters = field(default_factory=Counters)
    # Starts this process's backfill of indexes UpdateTable created (operations/backfill.py).
    wake_backfill: Callable[[], None] = lambda: None
    host: str = ""  # the request's Host header: the address the client reached
    # The settings that change at run time, and their changes (system.config).
    live: LiveOptions | None = None

    def authorize(self, permission: str, resource: str = ALL_KEYSPACES) -> None:
        """Check a CQL permission; under --alternator-warn-authorization only log a denial."""
        if self.principal is None or permissions.permitted(self.principal, permission, resource):
            return
        if self.config.enforce_authorization:
            raise permissions.denied(self.principal, permission, resource)
        log.warning("authorization would fail: %s",
                    permissions.denied(self.principal, permission, resource).message)
        self.counters.authorization_warnings += 1

Handler = Callable[[RequestContext, dict[str, Any]], Awaitable[dict[str, Any]]]


async def table_for(ctx: RequestContext, req: dict[str, Any],
                    permission: str | None) -> TableSchema:
    """The table a request names, after checking ``permission`` on it.

    DynamoDB's ResourceNotFoundException if the table does not exist.
    """
    name = read_table_name(req)
    return await named_table(ctx, name, permission)


async def named_table(ctx: RequestContext, name: str, permission: str | None) -> TableSchema:
    schema = await ctx.storage.get_table(name)
    if schema is None:
        raise ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")
    resource = ctx.storage.table_resource(schema)
    usage.of(name).resource = resource  # the request is counted in this table's metrics
    if permission is not None:
        ctx.authorize(permission, resource)
    return schema


async def change_schema(storage: Storage, name: str,
                        change: Callable[[TableSchema], TableSchema | None]) -> TableSchema | None:
    """Apply ``change`` to the table's stored schema atomically (compare-and-set, retried on a
    concurrent change); None if the table is gone or ``change`` gave up (returned None)."""
    for _ in range(100):
        schema = await storage.get_table(name)
        if schema is None:
            return None
        new = change(schema)
        if new is None:
            return None
        if await storage.update_table(new, expected=schema):
            return new
    raise RuntimeError(f"the schema of {name} keeps changing")
