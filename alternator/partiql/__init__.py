"""DynamoDB's PartiQL dialect (docs/partiql.md), pure: no I/O.

``parse`` (lexer.py, parser.py -> the immutable tree of ast.py) and then translation into the
request of the operation DynamoDB runs for the statement: reads.py for SELECT, writes.py for
INSERT, UPDATE, DELETE and EXISTS, both rendering conditions with render.py.
"""

from alternator.partiql import ast
from alternator.partiql.parser import parse
from alternator.partiql.reads import PointRead, SelectPlan, point_read, select_request
from alternator.partiql.render import count_parameters
from alternator.partiql.writes import (
    check_request,
    delete_request,
    insert_request,
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
