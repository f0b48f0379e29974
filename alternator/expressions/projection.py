"""ProjectionExpression (and AttributesToGet, ReturnValues UPDATED_*): pick paths of an item.

DynamoDB keeps the structure around a projected nested value: projecting ``a.b`` of
``{a: {M: {b: 1, c: 2}}}`` gives ``{a: {M: {b: 1}}}``; projecting ``a[1]`` and ``a[3]`` gives
``a`` as a list of just those two elements, in index order. Paths that are missing, or that go
through a value of the wrong type, contribute nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from alternator.expressions.ast import PathElement, Projection

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

# A tree of requested paths: None marks "the whole value here".
_Tree = dict[PathElement, "_Tree | None"]


def project(projection: Projection, item: Mapping[str, AttributeValue]) -> Item:
    return project_paths(item, (p.bound() for p in projection.paths))


def project_paths(
    item: Mapping[str, AttributeValue], paths: Iterable[tuple[PathElement, ...]]
) -> Item:
    tree: _Tree = {}
    for elements in paths:
        level = tree
        for i, element in enumerate(elements):
            last = i == len(elements) - 1
            if last:
                level[element] = None
                break
            child = level.get(element, {})
            if child is None:  # an ancestor is already projected whole
                break
            level[element] = child
            level = child
    out: Item = {}
    for name, subtree in tree.items():
        assert isinstance(name, str)
        value = item.get(name)
        if value is None:
            continue
        picked = value if subtree is None else _pick(value, subtree)
        if picked is not None:
            out[name] = picked
    return out


def _pick(value: AttributeValue, tree: _Tree) -> AttributeValue | None:
    if "M" in value:
        members: dict[str, AttributeValue] = {}
        source = value["M"]
        for key, subtree in tree.items():
            if not isinstance(key, str) or key not in source:
                continue
            picked = source[key] if subtree is None else _pick(source[key], subtree)
            if picked is not None:
                members[key] = picked
        return {"M": members} if members else None
    if "L" in value:
        elements: list[AttributeValue] = []
        source_list = value["L"]
        for index in sorted(k for k in tree if isinstance(k, int)):
            if index >= len(source_list):
                continue
            subtree = tree[index]
            picked = source_list[index] if subtree is None else _pick(source_list[index], subtree)
            if picked is not None:
                elements.append(picked)
        return {"L": elements} if elements else None
    return None
