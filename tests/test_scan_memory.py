"""A Scan of 100,000 items keeps the server's memory bounded by a few pages.

The server runs in its own process so that its resident set size can be watched while a client
pages through the whole table.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import sqlite_superuser, unique_table_name
from test_processes import start_process

ITEMS = 100_000
PAYLOAD = "x" * 1000  # about 1 KB an item: 100 MB in all, about 100 pages of 1 MB


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.slow
def test_scan_of_100k_items_keeps_rss_bounded(tmp_path: Path) -> None:
    path = str(tmp_path / "scan.db")
    proc, endpoint = start_process(["--sqlite-path", path], tmp_path / "scan.log",
                                   ("alternator", sqlite_superuser(path)))
    try:
        client = endpoint.client(max_pool_connections=8)
        name = unique_table_name("scan")
        client.create_table(TableName=name, KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")

        def load(start: int) -> None:
            requests = [{"PutRequest": {"Item": {"p": {"S": f"item{i}"}, "v": {"S": PAYLOAD}}}}
                        for i in range(start, min(start + 25, ITEMS))]
            client.batch_write_item(RequestItems={name: requests})

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(load, range(0, ITEMS, 25)))

        baseline = rss_bytes(proc.pid)
        peak = baseline
        done = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_bytes(proc.pid))
                time.sleep(0.02)

        watcher = threading.Thread(target=watch)
        watcher.start()
        seen = pages = 0
        kwargs: dict[str, object] = {"TableName": name}
        try:
            while True:
                page = client.scan(**kwargs)
                seen += page["Count"]
                pages += 1
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        finally:
            done.set()
            watcher.join()
        assert seen == ITEMS
        assert pages >= 90  # 1 MB pages
        growth = peak - baseline
        print(f"scan of {ITEMS} items in {pages} pages: server RSS {baseline >> 20} MiB -> "
              f"peak {peak >> 20} MiB (+{growth >> 20} MiB)")
        # The whole table is ~100 MB of item data (several hundred MB as Python objects); a
        # server that held it would grow far beyond this bound of a few 1 MB pages.
        assert growth < 48 * 1024 * 1024
    finally:
        proc.terminate()
        proc.wait(30)
