"""``make bench``: throughput and latency of the server against its peers (docs/performance.md)."""
