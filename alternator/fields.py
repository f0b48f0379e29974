"""Typed readers for request fields.

A missing required field is DynamoDB's "Member must not be null" ValidationException; a field of
the wrong JSON type is the SerializationException DynamoDB's JSON front end returns. Handlers read
every field through these, so a malformed request can never surface as a KeyError (a 500).
"""

from __future__ import annotations

from typing import Any

from alternator.errors import SerializationException, ValidationException

Request = dict[str, Any]

_JSON_NAMES = {str: "STRING_VALUE", bool: "BOOLEAN_VALUE", int: "INTEGER_VALUE"}


def member_name(field: str) -> str:
    """DynamoDB names members in messages in lower camel case: TableName -> tableName."""
    return field[:1].lower() + field[1:]


def not_null(field: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value null at '{member_name(field)}' failed to satisfy "
        "constraint: Member must not be null"
    )


def wrong_type(field: str, expected: str) -> SerializationException:
    return SerializationException(f"Unexpected value type in payload for {field}: expected {expected}")


def optional_str(req: Request, field: str) -> str | None:
    value = req.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise wrong_type(field, "a string")
    return value


def require_str(req: Request, field: str) -> str:
    value = optional_str(req, field)
    if value is None:
        raise not_null(field)
    return value


def optional_bool(req: Request, field: str) -> bool | None:
    value = req.get(field)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise wrong_type(field, "a boolean")
    return value


def optional_int(req: Request, field: str) -> int | None:
    value = req.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise wrong_type(field, "an integer")
    return value


def optional_map(req: Request, field: str) -> dict[str, Any] | None:
    value = req.get(field)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise wrong_type(field, "a map")
    return value


def require_map(req: Request, field: str) -> dict[str, Any]:
    value = optional_map(req, field)
    if value is None:
        raise not_null(field)
    return value


def optional_list(req: Request, field: str) -> list[Any] | None:
    value = req.get(field)
    if value is None:
        return None
    if not isinstance(value, list):
        raise wrong_type(field, "a list")
    return value


def require_list(req: Request, field: str) -> list[Any]:
    value = optional_list(req, field)
    if value is None:
        raise not_null(field)
    return value


def optional_enum(req: Request, field: str, allowed: tuple[str, ...]) -> str | None:
    value = optional_str(req, field)
    if value is not None and value not in allowed:
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{member_name(field)}' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
        )
    return value
