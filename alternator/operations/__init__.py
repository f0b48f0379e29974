"""DynamoDB operations: one module per family, all handlers one signature.

``HANDLERS`` maps an operation name (the part of ``X-Amz-Target`` after the dot) to its handler.
Handlers see a :class:`RequestContext` and the parsed request body, and return the response body.
They reach storage only through the ``Storage`` protocol.
"""

from __future__ import annotations

from alternator.operations import (
    backups,
    batch,
    items,
    partiql,
    partiql_batch,
    query,
    streams,
    tables,
    tags,
    transactions,
    ttl,
    vector_search,
)
from alternator.operations.context import Handler, RequestContext

HANDLERS: dict[str, Handler] = {
    "CreateTable": tables.create_table,
    "DescribeTable": tables.describe_table,
    "DeleteTable": tables.delete_table,
    "ListTables": tables.list_tables,
    "UpdateTable": tables.update_table,
    "DescribeTimeToLive": ttl.describe_time_to_live,
    "UpdateTimeToLive": ttl.update_time_to_live,
    "DescribeLimits": tables.describe_limits,
    "DescribeEndpoints": tables.describe_endpoints,
    "DescribeContinuousBackups": backups.describe_continuous_backups,
    "UpdateContinuousBackups": backups.update_continuous_backups,
    "PutItem": items.put_item,
    "GetItem": items.get_item,
    "DeleteItem": items.delete_item,
    "UpdateItem": items.update_item,
    "Query": query.query,
    "Scan": query.scan,
    "SearchVectors": vector_search.search_vectors,
    "BatchGetItem": batch.batch_get_item,
    "BatchWriteItem": batch.batch_write_item,
    "TransactWriteItems": transactions.transact_write_items,
    "TransactGetItems": transactions.transact_get_items,
    "ExecuteStatement": partiql.execute_statement,
    "BatchExecuteStatement": partiql_batch.batch_execute_statement,
    "ExecuteTransaction": partiql_batch.execute_transaction,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
    "ListTagsOfResource": tags.list_tags_of_resource,
}

# DynamoDB Streams' operations (X-Amz-Target DynamoDBStreams_20120810.NAME), same endpoint.
STREAMS_HANDLERS: dict[str, Handler] = {
    "ListStreams": streams.list_streams,
    "DescribeStream": streams.describe_stream,
    "GetShardIterator": streams.get_shard_iterator,
    "GetRecords": streams.get_records,
}

# Operations whose successful response has an empty body in DynamoDB (not "{}"):
# tests/test_names_limits.py::test_tag_and_untag_answer_an_empty_body.
EMPTY_RESPONSES = frozenset({"TagResource", "UntagResource"})

__all__ = ["EMPTY_RESPONSES", "HANDLERS", "STREAMS_HANDLERS", "Handler", "RequestContext"]
