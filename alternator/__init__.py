"""A DynamoDB-compatible HTTP server storing its data in Cassandra, ScyllaDB or SQLite.

Layers, top to bottom: ``server`` (HTTP) -> ``auth`` (SigV4) -> ``operations`` (one module per
family of DynamoDB operations) -> ``expressions`` (pure) and ``storage`` (the backends).
"""

__version__ = "0.1.0"
