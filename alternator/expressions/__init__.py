"""DynamoDB's expression language: parse -> bind -> evaluate, all pure.

Typical use by an operation handler, one :class:`Binder` per request::

    binder = Binder(request.get("ExpressionAttributeNames"),
                    request.get("ExpressionAttributeValues"))
    update = binder.update(request["UpdateExpression"])
    condition = binder.condition(request["ConditionExpression"])
    binder.finish()                       # unused names / values
    check_key_update(update, key_names)
    ...
    if evaluate(condition, old_item):
        new_item = apply_update(update, old_item)
"""

from alternator.expressions.ast import (
    CompositeKeyCondition,
    Condition,
    KeyCondition,
    Kind,
    Path,
    PathElement,
    Projection,
    SortKeyCondition,
    Update,
)
from alternator.expressions.bind import Binder
from alternator.expressions.evaluate import evaluate, get_path, paths_in_condition
from alternator.expressions.keys import (
    build_composite_key_condition,
    build_key_condition,
    check_filter_keys,
    key_condition,
)
from alternator.expressions.legacy import (
    attribute_updates,
    attributes_to_get,
    check_parameter_styles,
    expected_condition,
    filter_condition,
    key_conditions,
    key_conditions_parts,
)
from alternator.expressions.parser import parse_condition, parse_projection, parse_update
from alternator.expressions.projection import project, project_paths
from alternator.expressions.reserved import RESERVED_WORDS, is_reserved
from alternator.expressions.update import (
    apply_update,
    check_key_update,
    returned_attributes,
    updated_paths,
)

__all__ = [
    "RESERVED_WORDS",
    "Binder",
    "CompositeKeyCondition",
    "Condition",
    "KeyCondition",
    "Kind",
    "Path",
    "PathElement",
    "Projection",
    "SortKeyCondition",
    "Update",
    "apply_update",
    "attribute_updates",
    "attributes_to_get",
    "build_composite_key_condition",
    "build_key_condition",
    "check_filter_keys",
    "check_key_update",
    "check_parameter_styles",
    "evaluate",
    "expected_condition",
    "filter_condition",
    "get_path",
    "is_reserved",
    "key_condition",
    "key_conditions",
    "key_conditions_parts",
    "parse_condition",
    "parse_projection",
    "parse_update",
    "paths_in_condition",
    "project",
    "project_paths",
    "returned_attributes",
    "updated_paths",
]
