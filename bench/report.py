"""The results table, the ratios against the issue's targets, and py-spy profile summaries."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from bench import workloads as w

Results = list[dict[str, Any]]


def table(results: Results) -> str:
    head = f"{'target':<20} {'run':<28} {'conc':>4} {'ops/s':>9} {'p50 ms':>8} " \
           f"{'p99 ms':>8} {'p999 ms':>8} {'errors':>6}"
    lines = [head, "-" * len(head)]
    for r in results:
        if "ops_per_s" not in r and "p50_ms" in r:  # a latency only (stream_delay, vectors)
            recall = f" {'':>8} {'':>6}  recall@10 {r['recall_at_10']:.3f}" \
                if "recall_at_10" in r else ""
            lines.append(f"{r['target']:<20} {r['run']:<28} {r['concurrency']:>4} "
                         f"{'':>9} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}{recall}")
            continue
        if "ops_per_s" not in r:
            lines.append(f"{r['target']:<20} {r['run']:<28} {r['concurrency']:>4} "
                         f"FAILED: {r.get('error', '')[:80]}")
            continue
        lines.append(f"{r['target']:<20} {r['run']:<28} {r['concurrency']:>4} "
                     f"{r['ops_per_s']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
                     f"{r['p999_ms']:>8.2f} {r['errors']:>6}")
    return "\n".join(lines)


def markdown_table(results: Results) -> str:
    lines = ["| target | run | conc | ops/s | p50 ms | p99 ms | p999 ms | errors |",
             "|---|---|--:|--:|--:|--:|--:|--:|"]
    for r in results:
        if "ops_per_s" not in r and "p50_ms" in r:  # a latency only (stream_delay)
            lines.append(f"| {r['target']} | {r['run']} | {r['concurrency']} | | "
                         f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | | |")
            continue
        if "ops_per_s" not in r:
            lines.append(f"| {r['target']} | {r['run']} | {r['concurrency']} | failed | | | | |")
            continue
        lines.append(f"| {r['target']} | {r['run']} | {r['concurrency']} | "
                     f"{r['ops_per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                     f"{r['p999_ms']:.2f} | {r['errors']} |")
    return "\n".join(lines)


def _get(results: Results, target: str, run: str, key: str = "ops_per_s") -> float | None:
    for r in results:
        if r["target"] == target and r["run"] == run and key in r:
            return float(r[key])
    return None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def comparisons(results: Results, workers: int) -> dict[str, Any]:
    """Ratios and the issue's targets, each with the numbers it is computed from."""
    n = workers
    cass = ["cassandra-w1", f"cassandra-w{n}"]

    def best_cassandra(run: str) -> tuple[str | None, float | None]:
        found = [(t, _get(results, t, run)) for t in cass]
        found = [(t, v) for t, v in found if v is not None]
        return max(found, key=lambda x: x[1]) if found else (None, None)

    ratios: list[dict[str, Any]] = []

    def add(name: str, num: tuple[str | None, float | None], den: tuple[str, float | None],
            target: float | None = None) -> None:
        value = _ratio(num[1], den[1])
        ratios.append({"ratio": name, "value": value, "numerator": num, "denominator": den,
                       "target": target,
                       "met": None if value is None or target is None else value >= target})

    for run in ("get", "put", "query", "scan", "mix"):
        add(f"server on Cassandra / direct driver: {run}", best_cassandra(run),
            ("direct-driver", _get(results, "direct-driver", run)),
            0.8 if run in ("get", "put") else None)
    always = ("cassandra-w1", _get(results, "cassandra-w1", "cond_update@always_use_lwt"))
    add("cond_update always_use_lwt / direct one-LWT update", always,
        ("direct-driver", _get(results, "direct-driver", "cond_update")), 0.7)
    add("cond_update always_use_lwt / direct read+LWT (the server's statements)", always,
        ("direct-driver", _get(results, "direct-driver", "cond_update_rmw")))
    sqlite = f"sqlite-w{n}"
    for peer, goal in (("dynamodb-local", 1.5), ("moto", 10.0)):
        for run in ("get", "put", "cond_update", "query", "scan", "mix"):
            add(f"embedded ({n} workers) / {peer}: {run}", (sqlite, _get(results, sqlite, run)),
                (peer, _get(results, peer, run)),
                goal if run in ("get", "put", "query") else None)
        for run in ("get", "put", "query"):
            add(f"server on Cassandra / {peer}: {run}", best_cassandra(run),
                (peer, _get(results, peer, run)))
    trivial = f"aiohttp-trivial-w{n}"
    add(f"embedded GetItem / trivial aiohttp endpoint ({n} workers)",
        (sqlite, _get(results, sqlite, "get")), (trivial, _get(results, trivial, "trivial")),
        0.6)
    add("trivial aiohttp endpoint / load generator ceiling",
        (trivial, _get(results, trivial, "trivial")),
        ("loadgen-ceiling", _get(results, "loadgen-ceiling", "trivial")))
    for name in (*cass, sqlite):
        add(f"put with 2 GSIs (projection {w.GSI_PROJECTION}) / put: {name}",
            (name, _get(results, name, w.GSI_PUT_RUN)), (name, _get(results, name, "put")))
    for name in (*cass, sqlite):
        add(f"put with a NEW_AND_OLD_IMAGES stream / put: {name}",
            (name, _get(results, name, w.STREAM_PUT_RUN)), (name, _get(results, name, "put")))
    for name in (*cass, sqlite):
        put_ops = _get(results, name, "put")
        for size in (2, 10):
            txn = _get(results, name, f"txn{size}")
            add(f"items/s: TransactWriteItems of {size} / single PutItems: {name}",
                (name, txn * size if txn is not None else None), (name, put_ops))
    put = _get(results, "cassandra-w1", "put")
    for policy in ("always_use_lwt", "only_rmw_uses_lwt", "unsafe_rmw"):
        add(f"cond_update under {policy} / plain put (1 worker)",
            ("cassandra-w1", _get(results, "cassandra-w1", f"cond_update@{policy}")),
            ("cassandra-w1", put))

    latency: list[dict[str, Any]] = []
    for run in ("get@c1", "put@c1"):
        server = _get(results, "cassandra-w1", run, "p50_ms")
        direct = _get(results, "direct-driver", run, "p50_ms")
        added = server - direct if server is not None and direct is not None else None
        latency.append({"run": run, "server_p50_ms": server, "direct_p50_ms": direct,
                        "added_ms": added, "target_ms": 1.0,
                        "met": None if added is None else added <= 1.0})

    auth_on = _get(results, "sqlite-w1-auth", "get")
    auth_off = _get(results, "sqlite-w1-noauth", "get")
    auth = None
    if auth_on and auth_off:
        auth = {"get_ops_auth": auth_on, "get_ops_noauth": auth_off,
                "us_per_request": (1 / auth_on - 1 / auth_off) * 1e6,
                "throughput_cost": 1 - auth_on / auth_off}
    full = _get(results, "sqlite-w1-sync-full", "put")
    normal = _get(results, "sqlite-w1-sync-normal", "put")
    durability = None
    if full and normal:
        durability = {"put_ops_full": full, "put_ops_normal": normal,
                      "throughput_cost": 1 - full / normal}
    delays = [{"target": r["target"], "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"]}
              for r in results if r["run"] == "stream_delay" and "p50_ms" in r]
    return {"ratios": ratios, "latency": latency, "signature_check": auth,
            "durability": durability, "stream_delay": delays}


def comparison_text(c: dict[str, Any]) -> str:
    lines = ["ratio                                                          value  target"]
    for r in c["ratios"]:
        if r["value"] is None:
            continue
        target = "" if r["target"] is None else \
            f">= {r['target']:g}  {'met' if r['met'] else 'MISSED'}"
        lines.append(f"{r['ratio']:<62} {r['value']:5.2f}  {target}")
    for lat in c["latency"]:
        if lat["added_ms"] is None:
            continue
        lines.append(f"added p50 latency at concurrency 1, {lat['run']:<7}: server "
                     f"{lat['server_p50_ms']:.2f} ms - direct {lat['direct_p50_ms']:.2f} ms = "
                     f"{lat['added_ms']:+.2f} ms  (<= 1 ms: "
                     f"{'met' if lat['met'] else 'MISSED'})")
    auth = c["signature_check"]
    if auth:
        lines.append(f"signature checking (1 worker, GetItem): {auth['get_ops_auth']:.0f} vs "
                     f"{auth['get_ops_noauth']:.0f} ops/s without = "
                     f"{auth['us_per_request']:.0f} us per request "
                     f"({auth['throughput_cost']:.0%} of the throughput)")
    durability = c.get("durability")
    if durability:
        lines.append(f"durable acknowledgements (1 worker, PutItem, synchronous=full): "
                     f"{durability['put_ops_full']:.0f} vs {durability['put_ops_normal']:.0f} "
                     f"ops/s with normal ({durability['throughput_cost']:.0%} of the "
                     "throughput)")
    for delay in c.get("stream_delay", []):
        lines.append(f"stream record readable after its write's acknowledgement, "
                     f"{delay['target']}: p50 {delay['p50_ms']:.0f} ms, p99 "
                     f"{delay['p99_ms']:.0f} ms (<= 2000 ms)")
    return "\n".join(lines)


# --- py-spy ---------------------------------------------------------------------------------------

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def _frame_name(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m.group("file")
    for marker in ("/alternator/", "/site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/alternator/":
                path = "alternator/" + path
            break
    return f"{m.group('func')} ({path})"


def profile_summary(raw: str, top: int = 30) -> str:
    """py-spy's raw (collapsed) stacks -> the functions with the most samples.

    *self*: samples with the function on top of the stack; *total*: samples with it anywhere.
    Shares are of the process's non-idle samples.
    """
    self_count: Counter[str] = Counter()
    total_count: Counter[str] = Counter()
    files: Counter[str] = Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f.strip()]
        if not frames:
            continue
        samples += count
        self_count[frames[-1]] += count
        for name in set(frames):
            total_count[name] += count
        files[frames[-1].rsplit("(", 1)[-1].rstrip(")")] += count
    if not samples:
        return "no samples\n"
    out = [f"{samples} samples (non-idle)", "", "self %  function (file)"]
    out += [f"{100 * c / samples:6.1f}  {name}" for name, c in self_count.most_common(top)]
    out += ["", "total %  function (file), alternator/ only"]
    out += [f"{100 * c / samples:6.1f}  {name}" for name, c in total_count.most_common()
            if "(alternator/" in name][:top]
    out += ["", "self % by file"]
    out += [f"{100 * c / samples:6.1f}  {name}" for name, c in files.most_common(top)]
    return "\n".join(out) + "\n"
