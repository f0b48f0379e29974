"""The pre-expression ("legacy") parameters, converted to the same bound AST.

Expected + ConditionalOperator, QueryFilter / ScanFilter -> :data:`Condition`;
AttributeUpdates -> :class:`Update`; AttributesToGet -> :class:`Projection`;
KeyConditions -> :class:`KeyCondition`. Evaluation and application are then shared with the
expression forms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from alternator.errors import SerializationException, ValidationException
from alternator.expressions.ast import (
    AddAction,
    And,
    Between,
    Call,
    Comparator,
    Compare,
    Condition,
    DeleteAction,
    IfNotExists,
    In,
    KeyCondition,
    ListAppend,
    Not,
    Or,
    Path,
    Projection,
    RemoveAction,
    SetAction,
    Update,
    Value,
)
from alternator.expressions.keys import build_key_condition
from alternator.values import check_attribute_name, compare_scalars, validate_value

_INVALID = "One or more parameter values were invalid: "
_OPERATORS = (
    "IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL", "NE", "LE",
    "BEGINS_WITH", "GE", "CONTAINS",
)
# Number of values each ComparisonOperator takes (None: one or more).
_ARITY: dict[str, int | None] = {
    "EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "CONTAINS": 1, "NOT_CONTAINS": 1,
    "BEGINS_WITH": 1, "NULL": 0, "NOT_NULL": 0, "IN": None, "BETWEEN": 2,
}
# The value types each operator accepts (EQ and NE accept every type).
_TYPES: dict[str, tuple[str, ...]] = {
    "LE": ("S", "N", "B"), "LT": ("S", "N", "B"), "GE": ("S", "N", "B"), "GT": ("S", "N", "B"),
    "CONTAINS": ("S", "N", "B"), "NOT_CONTAINS": ("S", "N", "B"), "BEGINS_WITH": ("S", "B"),
    "IN": ("S", "N", "B"), "BETWEEN": ("S", "N", "B"),
}
_COMPARATORS: dict[str, Comparator] = {
    "EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">",
}
_KEY_OPERATORS = {
    "EQ": "=", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">", "BEGINS_WITH": "begins_with",
    "BETWEEN": "BETWEEN",
}
_SET_TYPES = ("SS", "NS", "BS")


def _enum_error(value: Any, where: str, allowed: Sequence[str]) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
    )


# --- conditions -------------------------------------------------------------------------------


def expected_condition(
    expected: Mapping[str, Any] | None, conditional_operator: str | None = None
) -> Condition | None:
    """The condition of an ``Expected`` parameter (None when there is nothing to check)."""
    if not expected:
        _check_operator_alone(conditional_operator)
        return None
    conditions = [_expected_one(name, _spec(spec, "Expected")) for name, spec in expected.items()]
    return _combine(conditions, conditional_operator)


def filter_condition(
    conditions: Mapping[str, Any] | None,
    conditional_operator: str | None = None,
    parameter: str = "QueryFilter",
) -> Condition | None:
    """The condition of a ``QueryFilter`` or ``ScanFilter`` parameter."""
    if not conditions:
        _check_operator_alone(conditional_operator)
        return None
    where = parameter[0].lower() + parameter[1:]
    out = []
    for name, spec in conditions.items():
        check_attribute_name(name)
        operator = _text(spec.get("ComparisonOperator"), "ComparisonOperator") \
            if isinstance(spec, Mapping) else None
        if operator is None:
            raise ValidationException(
                f"1 validation error detected: Value null at '{where}.{name}.member."
                "comparisonOperator' failed to satisfy constraint: Member must not be null"
            )
        values = _list_of(spec.get("AttributeValueList"), "AttributeValueList")
        out.append(_comparison(name, operator, values, f"{where}.{name}.member"))
    return _combine(out, conditional_operator)


def _check_operator_alone(conditional_operator: str | None) -> None:
    """ConditionalOperator needs conditions to combine; an empty Expected (or filter) alone is
    accepted, as no condition (tests/test_legacy_exactness.py)."""
    if conditional_operator is not None:
        raise ValidationException("ConditionalOperator cannot be used without Filter or Expected")


def _combine(conditions: list[Condition], conditional_operator: str | None) -> Condition:
    if conditional_operator not in (None, "AND", "OR"):
        raise _enum_error(conditional_operator, "conditionalOperator", ("AND", "OR"))
    if len(conditions) == 1:
        return conditions[0]
    return Or(tuple(conditions)) if conditional_operator == "OR" else And(tuple(conditions))


def _spec(value: Any, parameter: str) -> Mapping[str, Any]:
    """One attribute's entry of a legacy parameter: it must be a JSON object."""
    if not isinstance(value, Mapping):
        raise SerializationException(
            f"Unexpected value type in payload for {parameter}: expected a structure")
    return value


def _text(value: Any, member: str) -> Any:
    """A member that must be a JSON string: anything else is a SerializationException, as
    DynamoDB's JSON front end answers (tests/test_legacy_exactness.py)."""
    if value is not None and not isinstance(value, str):
        raise SerializationException(
            f"Unexpected value type in payload for {member}: expected a string")
    return value


def _list_of(value: Any, parameter: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SerializationException(
            f"Unexpected value type in payload for {parameter}: expected a list")
    return value


def _expected_one(name: str, spec: Mapping[str, Any]) -> Condition:
    check_attribute_name(name)
    if "AttributeValueList" in spec and "Value" in spec:
        raise ValidationException(
            _INVALID + f"Value and AttributeValueList cannot be used together for Attribute: {name}"
        )
    if "ComparisonOperator" in spec:
        operator = _text(spec["ComparisonOperator"], "ComparisonOperator")
        if "Exists" in spec:
            raise ValidationException(
                _INVALID + f"Exists and ComparisonOperator cannot be used together for "
                f"Attribute: {name}"
            )
        if "AttributeValueList" in spec:
            values = _list_of(spec["AttributeValueList"], "AttributeValueList")
        elif "Value" in spec:
            values = [spec["Value"]]
        else:
            if operator not in ("NULL", "NOT_NULL") and operator in _OPERATORS:
                raise ValidationException(
                    _INVALID + "Value or AttributeValueList must be used with ComparisonOperator: "
                    f"{operator} for Attribute: {name}"
                )
            values = []
        return _comparison(name, operator, values, f"expected.{name}.member")
    if "AttributeValueList" in spec:
        raise ValidationException(
            _INVALID + "AttributeValueList can only be used with a ComparisonOperator for "
            f"Attribute: {name}"
        )
    exists = spec.get("Exists")
    if exists is None or exists is True:
        if "Value" not in spec:
            shown = "null" if exists is None else "true"
            raise ValidationException(
                _INVALID + f"Value must be provided when Exists is {shown} for Attribute: {name}"
            )
        return Compare("=", Path((name,)), Value(validate_value(spec["Value"])))
    if "Value" in spec:
        raise ValidationException(
            _INVALID + f"Value cannot be used when Exists is false for Attribute: {name}"
        )
    return Call("attribute_not_exists", (Path((name,)),))


def _checked_values(operator: str, raw: list[Any], where: str) -> list[dict[str, Any]]:
    if operator not in _OPERATORS:
        raise _enum_error(operator, f"{where}.comparisonOperator", _OPERATORS)
    values = [validate_value(v) for v in raw]
    arity = _ARITY[operator]
    if (arity is None and not values) or (arity is not None and len(values) != arity):
        raise ValidationException(
            _INVALID + f"Invalid number of argument(s) for the {operator} ComparisonOperator"
        )
    if values:
        first_type = next(iter(values[0]))
        if any(next(iter(v)) != first_type for v in values):
            raise ValidationException(
                _INVALID + "AttributeValues inside AttributeValueList must be of same type"
            )
        allowed = _TYPES.get(operator)
        if allowed is not None and first_type not in allowed:
            raise ValidationException(
                _INVALID + f"ComparisonOperator {operator} is not valid for {first_type} "
                "AttributeValue type"
            )
    if operator == "BETWEEN":
        order = compare_scalars(values[0], values[1])
        if order is not None and order > 0:
            raise ValidationException(
                "The BETWEEN condition was provided a range where the lower bound is greater "
                "than the upper bound"
            )
    return values


def _comparison(name: str, operator: str, raw: list[Any], where: str) -> Condition:
    values = _checked_values(operator, raw, where)
    path = Path((name,))
    if operator in _COMPARATORS:
        return Compare(_COMPARATORS[operator], path, Value(values[0]))
    match operator:
        case "NULL":
            return Call("attribute_not_exists", (path,))
        case "NOT_NULL":
            return Call("attribute_exists", (path,))
        case "CONTAINS":
            return Call("contains", (path, Value(values[0])))
        case "NOT_CONTAINS":
            # A missing attribute does not satisfy NOT_CONTAINS (unlike NOT contains(...)).
            return And((
                Call("attribute_exists", (path,)),
                Not(Call("contains", (path, Value(values[0])))),
            ))
        case "BEGINS_WITH":
            return Call("begins_with", (path, Value(values[0])))
        case "IN":
            return In(path, tuple(Value(v) for v in values))
        case "BETWEEN":
            return Between(path, Value(values[0]), Value(values[1]))
    raise AssertionError(operator)


# --- key conditions ---------------------------------------------------------------------------


def key_conditions(
    conditions: Mapping[str, Any],
    partition_key: str,
    sort_key: str | None,
    key_types: Mapping[str, str] | None = None,
) -> KeyCondition:
    """The legacy ``KeyConditions`` parameter of Query."""
    return build_key_condition(key_conditions_parts(conditions), partition_key, sort_key,
                               key_types)


def key_conditions_parts(
        conditions: Mapping[str, Any]) -> dict[str, tuple[str, tuple[dict[str, Any], ...]]]:
    """The legacy ``KeyConditions`` parameter as its conditions per attribute."""
    if not conditions or len(conditions) > 2:
        raise ValidationException(_INVALID + "Conditions can be of length 1 or 2 only")
    parsed: dict[str, tuple[str, tuple[dict[str, Any], ...]]] = {}
    for name, raw in conditions.items():
        spec = _spec(raw, "KeyConditions")
        operator = _text(spec.get("ComparisonOperator"), "ComparisonOperator")
        where = f"keyConditions.{name}.member"
        if not isinstance(operator, str):
            raise ValidationException(
                f"1 validation error detected: Value null at '{where}.comparisonOperator' "
                "failed to satisfy constraint: Member must not be null")
        values = _checked_values(operator, _list_of(spec.get("AttributeValueList"),
                                                    "AttributeValueList"), where)
        if operator not in _KEY_OPERATORS:
            raise ValidationException("Attempted conditional constraint is not an indexable "
                                      "operation")
        parsed[name] = (_KEY_OPERATORS[operator], tuple(values))
    return parsed


# --- updates and projections ------------------------------------------------------------------


def attribute_updates(updates: Mapping[str, Any]) -> Update:
    """The legacy ``AttributeUpdates`` parameter of UpdateItem."""
    sets: list[SetAction] = []
    removes: list[RemoveAction] = []
    adds: list[AddAction] = []
    deletes: list[DeleteAction] = []
    for name, spec in updates.items():
        check_attribute_name(name)
        if not isinstance(spec, Mapping):  # tests/test_malformed.py
            raise SerializationException(
                f"Unexpected value type in payload for AttributeUpdates.{name}: expected a "
                "structure")
        action = _text(spec.get("Action", "PUT"), "Action")
        if action not in ("ADD", "PUT", "DELETE"):
            raise _enum_error(
                action, f"attributeUpdates.{name}.member.action", ("ADD", "PUT", "DELETE")
            )
        path = Path((name,))
        if "Value" not in spec or spec["Value"] is None:
            if action != "DELETE":
                raise ValidationException(
                    _INVALID + "Only DELETE action is allowed when no attribute value is specified"
                )
            removes.append(RemoveAction(path))
            continue
        value = validate_value(spec["Value"])
        kind = next(iter(value))
        if action == "PUT":
            sets.append(SetAction(path, Value(value)))
        elif action == "DELETE":
            if kind not in _SET_TYPES:
                raise ValidationException(
                    _INVALID + f"DELETE action with value is not supported for the type {kind}"
                )
            deletes.append(DeleteAction(path, Value(value)))
        elif kind == "L":
            # Legacy ADD appends to a list (creating it when missing).
            sets.append(SetAction(path, ListAppend(IfNotExists(path, Value({"L": []})),
                                                   Value(value))))
        elif kind == "N" or kind in _SET_TYPES:
            adds.append(AddAction(path, Value(value)))
        else:
            raise ValidationException(
                _INVALID + f"ADD action is not supported for the type {kind}"
            )
    return Update(tuple(sets), tuple(removes), tuple(adds), tuple(deletes))


def attributes_to_get(names: Sequence[str]) -> Projection:
    if not names:
        raise ValidationException(
            "1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    seen: set[str] = set()
    for name in names:
        if not isinstance(name, str):  # tests/test_malformed.py
            raise SerializationException(
                "Unexpected value type in payload for AttributesToGet: expected a string")
        check_attribute_name(name)
        if name in seen:
            raise ValidationException(
                _INVALID + f"Duplicate value in attribute name: {name}"
            )
        seen.add(name)
    return Projection(tuple(Path((name,)) for name in names))


# --- mixing the two styles --------------------------------------------------------------------

EXPRESSION_PARAMETERS = (
    "UpdateExpression", "ConditionExpression", "KeyConditionExpression", "FilterExpression",
    "ProjectionExpression",
)
LEGACY_PARAMETERS = (
    "AttributeUpdates", "Expected", "KeyConditions", "QueryFilter", "ScanFilter",
    "AttributesToGet", "ConditionalOperator",
)


def check_parameter_styles(
    request: Mapping[str, Any],
    expression_parameters: Sequence[str] = EXPRESSION_PARAMETERS,
    legacy_parameters: Sequence[str] = LEGACY_PARAMETERS,
) -> None:
    """Refuse a request mixing expression and legacy parameters, and names/values maps given
    without any expression. Pass the parameters the operation accepts, in DynamoDB's order."""
    used_expressions = [p for p in expression_parameters if request.get(p) is not None]
    if used_expressions:
        legacy = [p for p in legacy_parameters if request.get(p) is not None]
        # KeyConditions may be combined with the other expressions (but not with
        # KeyConditionExpression).
        if request.get("KeyConditionExpression") is None and "KeyConditions" in legacy:
            legacy.remove("KeyConditions")
        if legacy:
            raise ValidationException(
                "Can not use both expression and non-expression parameters in the same request: "
                f"Non-expression parameters: {{{', '.join(legacy)}}} "
                f"Expression parameters: {{{', '.join(used_expressions)}}}"
            )
    if request.get("ExpressionAttributeNames") is not None and not used_expressions:
        raise ValidationException(
            "ExpressionAttributeNames can only be specified when using expressions"
        )
    value_expressions = [p for p in expression_parameters if p != "ProjectionExpression"]
    if (
        request.get("ExpressionAttributeValues") is not None
        and value_expressions
        and all(request.get(p) is None for p in value_expressions)
    ):
        verb = "are" if len(value_expressions) > 1 else "is"
        raise ValidationException(
            "ExpressionAttributeValues can only be specified when using expressions: "
            f"{' and '.join(value_expressions)} {verb} null"
        )


__all__ = [
    "attribute_updates",
    "attributes_to_get",
    "check_parameter_styles",
    "expected_condition",
    "filter_condition",
    "key_conditions",
]
