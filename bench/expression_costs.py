"""Cost of the expression engine per UpdateItem: parse, bind, evaluate, apply.

    .venv/bin/python bench/expression_costs.py [iterations]

Prints microseconds per operation for a typical conditional UpdateItem, with the parse cache
cold and warm, and the parse cache's hit/miss counts to show that a repeated expression is not
parsed again.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from alternator import expressions as expr
from alternator.expressions.parser import parse_condition, parse_update

UPDATE = "SET #n = #n + :one, updated = :now, tags = list_append(if_not_exists(tags, :empty), :tag)"
CONDITION = "attribute_exists(p) AND #n < :max AND begins_with(kind, :prefix)"
NAMES = {"#n": "count"}
VALUES = {":one": {"N": "1"}, ":now": {"S": "2026-11-22T12:00:00Z"}, ":empty": {"L": []},
          ":tag": {"L": [{"S": "x"}]}, ":max": {"N": "1000000"}, ":prefix": {"S": "ord"}}
ITEM = {"p": {"S": "key"}, "count": {"N": "41"}, "kind": {"S": "order"},
        "tags": {"L": [{"S": "a"}]}, "payload": {"S": "x" * 200}}


def per_op(fn: Callable[[], object], iterations: int) -> float:
    start = time.perf_counter()
    for _ in range(iterations):
        fn()
    return (time.perf_counter() - start) / iterations * 1e6


def bind_all() -> tuple[expr.Update, expr.Condition]:
    binder = expr.Binder(NAMES, VALUES)
    update = binder.update(UPDATE)
    condition = binder.condition(CONDITION)
    binder.finish()
    return update, condition


def main(iterations: int) -> None:
    def cold_parse() -> None:
        parse_update.cache_clear()
        parse_condition.cache_clear()
        parse_update(UPDATE)
        parse_condition(CONDITION)

    cold = per_op(cold_parse, max(1, iterations // 10))
    parse_update.cache_clear()
    parse_condition.cache_clear()
    bound = per_op(bind_all, iterations)
    update, condition = bind_all()
    evaluate = per_op(lambda: expr.evaluate(condition, ITEM), iterations)
    apply = per_op(lambda: expr.apply_update(update, ITEM), iterations)
    print(f"{'step':<44}{'us/op':>10}")
    print(f"{'parse (cache cold), update + condition':<44}{cold:>10.1f}")
    print(f"{'parse (cached) + bind + unused checks':<44}{bound:>10.1f}")
    print(f"{'evaluate condition':<44}{evaluate:>10.1f}")
    print(f"{'apply update':<44}{apply:>10.1f}")
    print(f"{'total per UpdateItem (cached parse)':<44}{bound + evaluate + apply:>10.1f}")
    info = parse_update.cache_info()
    print(f"parse_update cache: {info.hits} hits, {info.misses} misses over "
          f"{iterations + 1} binds: the expression was parsed {info.misses} time(s)")
    assert info.misses == 1, "a cached expression was parsed again"


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
