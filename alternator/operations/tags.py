"""TagResource, UntagResource, ListTagsOfResource, and the validation of tags.

The ``system:write_isolation`` tag chooses a table's write isolation policy; its value is
checked whenever it is set, at CreateTable or TagResource.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from alternator import fields
from alternator.auth import permissions
from alternator.config import WRITE_ISOLATION_ALIASES, WRITE_ISOLATION_TAG
from alternator.errors import (
    ResourceNotFoundException,
    SerializationException,
    ValidationException,
)
from alternator.operations.context import RequestContext, change_schema
from alternator.schema import TableSchema

MAX_TAGS = 50


# DynamoDB's tag keys and values: letters, separators (spaces), numbers and _ . : / = + - @
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Tagging.html).
_TAG_PATTERN = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*"
_TAG_PUNCTUATION = frozenset("_.:/=+-@")


def _tag_text_allowed(text: str) -> bool:
    return all(ch in _TAG_PUNCTUATION or unicodedata.category(ch)[0] in "LZN" for ch in text)


def parse_tag_list(raw: list[Any]) -> dict[str, str]:
    """Tags of CreateTable or TagResource, checked as DynamoDB checks them (all the
    violations of the list in one message): tests/test_names_limits.py."""
    tags: dict[str, str] = {}
    errors: list[str] = []
    for i, entry in enumerate(raw, 1):
        if not isinstance(entry, dict):
            raise SerializationException("Unexpected value type in payload for Tags")
        key = fields.require_str(entry, "Key")
        value = fields.require_str(entry, "Value")
        for member, text, bounds in (("key", key, (1, 128)), ("value", value, (0, 256))):
            where = f"Value '{text}' at 'tags.{i}.member.{member}' failed to satisfy constraint: "
            if len(text) < bounds[0]:
                errors.append(where + f"Member must have length greater than or equal to "
                              f"{bounds[0]}")
            elif len(text) > bounds[1]:
                errors.append(where + f"Member must have length less than or equal to "
                              f"{bounds[1]}")
            if not _tag_text_allowed(text):
                errors.append(where + "Member must satisfy regular expression pattern: "
                              + _TAG_PATTERN)
        tags[key] = value
    if errors:
        count = len(errors)
        raise ValidationException(
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(errors)
        )
    for key, value in tags.items():
        validate_tag(key, value)
    return tags


def validate_tag(key: str, value: str) -> None:
    if key == WRITE_ISOLATION_TAG and value not in WRITE_ISOLATION_ALIASES:
        allowed = ", ".join(WRITE_ISOLATION_ALIASES)
        raise ValidationException(
            f"Incorrect write isolation tag {value}. Allowed values: {allowed}"
        )


def _check_count(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise ValidationException("The number of tags exceeds the limit of 50 tags per resource")


async def _table_by_arn(ctx: RequestContext, req: dict[str, Any],
                        permission: str | None) -> TableSchema:
    arn = fields.require_str(req, "ResourceArn")
    if not arn.startswith("arn:"):
        raise ValidationException(f"Invalid TableArn: ARNs must start with 'arn:': {arn}")
    prefix = f"arn:aws:dynamodb:{ctx.config.region}:000000000000:table/"
    name = arn[len(prefix):] if arn.startswith(prefix) else None
    schema = await ctx.storage.get_table(name) if name and "/" not in name else None
    if schema is None:
        raise ResourceNotFoundException(f"Requested resource not found: ResourcArn: {arn} not found")
    if permission is not None:
        ctx.authorize(permission, ctx.storage.table_resource(schema))
    return schema


async def tag_resource(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    schema = await _table_by_arn(ctx, req, permissions.ALTER)
    raw_tags = fields.require_list(req, "Tags")
    if not raw_tags:
        raise ValidationException(
            "1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    new_tags = parse_tag_list(raw_tags)
    merged = schema.tag_map | new_tags
    _check_count(merged)
    # Compare-and-set: a concurrent schema change (an index backfill's progress) is kept.
    await change_schema(ctx.storage, schema.name,
                        lambda current: current.with_tags(current.tag_map | new_tags))
    return {}


async def untag_resource(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    schema = await _table_by_arn(ctx, req, permissions.ALTER)
    keys = fields.require_list(req, "TagKeys")
    if not all(isinstance(k, str) for k in keys):
        raise SerializationException("Unexpected value type in payload for TagKeys")
    await change_schema(ctx.storage, schema.name, lambda current: current.with_tags(
        {k: v for k, v in current.tag_map.items() if k not in keys}))
    return {}


async def list_tags_of_resource(ctx: RequestContext, req: dict[str, Any]) -> dict[str, Any]:
    schema = await _table_by_arn(ctx, req, None)
    return {"Tags": [{"Key": k, "Value": v} for k, v in schema.tags]}
