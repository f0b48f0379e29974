"""DescribeContinuousBackups and UpdateContinuousBackups.

This server keeps no backups: every table answers that continuous backups and point-in-time
recovery are DISABLED, and a request to enable point-in-time recovery is refused with a
ValidationException that says so (asking to disable it succeeds, as it changes nothing). Tools
that only read the status (Terraform, CDK drift checks, the console) keep working. A missing
table is TableNotFoundException, as DynamoDB's backup operations answer (not
ResourceNotFoundException). The table may be named by its ARN.
"""

from __future__ import annotations

from typing import Any

from alternator import fields
from alternator.auth import permissions
from alternator.errors import TableNotFoundException, ValidationException
from alternator.operations.context import RequestContext
from alternator.schema import TableSchema, validate_table_name

DISABLED = {
    "ContinuousBackupsStatus": "DISABLED",
    "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"},
}
NOT_SUPPORTED = ("Point-in-time recovery is not supported by this server: it keeps no "
                 "backups (see docs/compatibility.md)")


async def _table(ctx: RequestContext, req: dict[str, Any],
                 permission: str | None) -> TableSchema:
    name = fields.require_str(req, "TableName")
    if name.startswith("arn:") and ":table/" in name:
        name = name.split(":table/", 1)[1].split("/", 1)[0]
    schema = await ctx.storage.get_table(validate_table_name(name))
    if schema is None:
        raise TableNotFoundException(f"Table not found: {name}")
    if permission is not None:  # (describing a table needs no permission, as DescribeTable)
        ctx.authorize(permission, ctx.storage.table_resource(schema))
    return schema


async def describe_continuous_backups(ctx: RequestContext,
                                      req: dict[str, Any]) -> dict[str, Any]:
    await _table(ctx, req, None)
    return {"ContinuousBackupsDescription": DISABLED}


async def update_continuous_backups(ctx: RequestContext,
                                    req: dict[str, Any]) -> dict[str, Any]:
    specification = fields.require_map(req, "PointInTimeRecoverySpecification")
    enabled = fields.optional_bool(specification, "PointInTimeRecoveryEnabled")
    if enabled is None:
        raise ValidationException(
            "1 validation error detected: Value null at 'pointInTimeRecoverySpecification."
            "pointInTimeRecoveryEnabled' failed to satisfy constraint: Member must not be null")
    await _table(ctx, req, permissions.ALTER)
    if enabled:
        raise ValidationException(NOT_SUPPORTED)
    return {"ContinuousBackupsDescription": DISABLED}
