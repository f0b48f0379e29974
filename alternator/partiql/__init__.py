"""DynamoDB's PartiQL dialect: parse a statement, translate it into the request of the
operation that does the same (docs/partiql.md). Pure: no I/O."""

from alternator.partiql import ast
from alternator.partiql.parser import parse
from alternator.partiql.translate import (
    PointRead,
    SelectPlan,
    check_request,
    count_parameters,
    delete_request,
    insert_request,
    point_read,
    select_request,
    update_request,
)

__all__ = [
    "PointRead",
    "SelectPlan",
    "ast",
    "check_request",
    "count_parameters",
    "delete_request",
    "insert_request",
    "parse",
    "point_read",
    "select_request",
    "update_request",
]
