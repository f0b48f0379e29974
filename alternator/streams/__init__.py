"""DynamoDB Streams' pure parts: the records a write makes, and the arithmetic of shards,
sequence numbers, iterators and ARNs (docs/streams.md). The API is operations/streams.py; the
records are stored with their writes by the backends."""
