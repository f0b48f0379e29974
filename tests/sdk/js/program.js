// The AWS SDK for JavaScript v3 against alternator, as an application uses it: the low-level
// client for the table's life cycle and the DocumentClient for items. Run by
// tests/test_sdk_clients.py with ALTERNATOR_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and ALTERNATOR_TABLE set (and NODE_EXTRA_CA_CERTS over HTTPS). Prints "ok" when all passed.
"use strict";
const assert = require("node:assert/strict");
const {
  CreateTableCommand, DeleteTableCommand, ListTablesCommand,
  waitUntilTableExists, waitUntilTableNotExists,
} = require("@aws-sdk/client-dynamodb");
const {
  DynamoDBStreamsClient, ListStreamsCommand, DescribeStreamCommand, GetShardIteratorCommand,
  GetRecordsCommand,
} = require("@aws-sdk/client-dynamodb-streams");
const {
  PutCommand, GetCommand, UpdateCommand, DeleteCommand, BatchWriteCommand, BatchGetCommand,
  TransactWriteCommand, TransactGetCommand, paginateQuery, paginateScan,
} = require("@aws-sdk/lib-dynamodb");

// [docs:begin]
const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");
const { DynamoDBDocumentClient } = require("@aws-sdk/lib-dynamodb");

// Over HTTPS, start node with NODE_EXTRA_CA_CERTS=<state dir>/serving-ca.crt: the SDK
// ignores AWS_CA_BUNDLE, and Node trusts the extra CA for every TLS connection.
const client = new DynamoDBClient({
  endpoint: process.env.ALTERNATOR_ENDPOINT, // e.g. http://127.0.0.1:8000 or https://...:8043
  region: "us-east-1", // any region: requests are signed for it, the server accepts any
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID, // a role name, e.g. alternator
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY, // `alternator role secret NAME`
  },
});
const documents = DynamoDBDocumentClient.from(client);
// [docs:end]

const TableName = process.env.ALTERNATOR_TABLE;
const waiter = { client, maxWaitTime: 120, minDelay: 1, maxDelay: 2 };

async function main() {
  // Table life cycle, with the SDK's waiters.
  const created = await client.send(new CreateTableCommand({
    TableName,
    KeySchema: [{ AttributeName: "p", KeyType: "HASH" }, { AttributeName: "c", KeyType: "RANGE" }],
    AttributeDefinitions: [
      { AttributeName: "p", AttributeType: "S" }, { AttributeName: "c", AttributeType: "N" },
    ],
    BillingMode: "PAY_PER_REQUEST",
    StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
  }));
  assert.ok(created.$metadata.requestId, "x-amzn-RequestId is read into $metadata");
  await waitUntilTableExists(waiter, { TableName });
  const tables = await client.send(new ListTablesCommand({}));
  assert.ok(tables.TableNames.includes(TableName));

  // Items, with conditions.
  await documents.send(new PutCommand({
    TableName, Item: { p: "solo", c: 1, n: 0, tags: new Set(["a", "b"]) },
    ConditionExpression: "attribute_not_exists(p)",
  }));
  await assert.rejects(documents.send(new PutCommand({
    TableName, Item: { p: "solo", c: 1 }, ConditionExpression: "attribute_not_exists(p)",
  })), { name: "ConditionalCheckFailedException" });
  const updated = await documents.send(new UpdateCommand({
    TableName, Key: { p: "solo", c: 1 },
    UpdateExpression: "SET n = n + :one", ConditionExpression: "n = :zero",
    ExpressionAttributeValues: { ":one": 1, ":zero": 0 }, ReturnValues: "ALL_NEW",
  }));
  assert.equal(updated.Attributes.n, 1);
  const got = await documents.send(new GetCommand({ TableName, Key: { p: "solo", c: 1 } }));
  assert.deepEqual(got.Item.tags, new Set(["a", "b"]));

  // Batches.
  const rows = Array.from({ length: 10 }, (_, c) => ({ PutRequest: { Item: { p: "many", c } } }));
  const written = await documents.send(new BatchWriteCommand({ RequestItems: { [TableName]: rows } }));
  assert.deepEqual(written.UnprocessedItems, {});
  const batch = await documents.send(new BatchGetCommand({
    RequestItems: { [TableName]: { Keys: [{ p: "many", c: 3 }, { p: "many", c: 7 }, { p: "solo", c: 1 }] } },
  }));
  assert.equal(batch.Responses[TableName].length, 3);

  // Query and Scan, a page at a time.
  const queried = [];
  let pages = 0;
  for await (const page of paginateQuery({ client: documents, pageSize: 3 }, {
    TableName, KeyConditionExpression: "p = :p", ExpressionAttributeValues: { ":p": "many" },
  })) {
    pages += 1;
    queried.push(...page.Items.map((item) => item.c));
  }
  assert.deepEqual(queried, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(pages >= 4, `Query came in ${pages} pages`);
  let scanned = 0;
  for await (const page of paginateScan({ client: documents, pageSize: 4 }, { TableName })) {
    scanned += page.Items.length;
  }
  assert.equal(scanned, 11);

  await assert.rejects(documents.send(new DeleteCommand({
    TableName, Key: { p: "solo", c: 1 }, ConditionExpression: "n = :zero",
    ExpressionAttributeValues: { ":zero": 0 },
  })), { name: "ConditionalCheckFailedException" });
  await documents.send(new DeleteCommand({ TableName, Key: { p: "solo", c: 1 } }));

  // Transactions: all or nothing, with the SDK's own exception and reasons.
  await documents.send(new TransactWriteCommand({ TransactItems: [
    { Put: { TableName, Item: { p: "txn", c: 1, n: 5 } } },
    { Update: { TableName, Key: { p: "many", c: 0 }, UpdateExpression: "SET n = :n",
                ExpressionAttributeValues: { ":n": 1 } } },
  ] }));
  await assert.rejects(documents.send(new TransactWriteCommand({ TransactItems: [
    { Put: { TableName, Item: { p: "txn", c: 2 } } },
    { ConditionCheck: { TableName, Key: { p: "txn", c: 1 }, ConditionExpression: "n > :big",
                        ExpressionAttributeValues: { ":big": 10 } } },
  ] })), (error) => error.name === "TransactionCanceledException"
    && error.CancellationReasons.map((r) => r.Code).join() === "None,ConditionalCheckFailed");
  const together = await documents.send(new TransactGetCommand({ TransactItems: [
    { Get: { TableName, Key: { p: "txn", c: 1 } } }, { Get: { TableName, Key: { p: "txn", c: 2 } } },
  ] }));
  assert.deepEqual(together.Responses.map((r) => r.Item && r.Item.n), [5, undefined]);
  await documents.send(new DeleteCommand({ TableName, Key: { p: "txn", c: 1 } }));

  // The table's stream, through DynamoDBStreamsClient on the same endpoint: every change made
  // above, once (the refused conditional writes made none).
  const streams = new DynamoDBStreamsClient({
    endpoint: process.env.ALTERNATOR_ENDPOINT, region: "us-east-1",
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
    },
  });
  const listed = await streams.send(new ListStreamsCommand({ TableName }));
  assert.equal(listed.Streams.length, 1);
  const StreamArn = listed.Streams[0].StreamArn;
  assert.equal(StreamArn, created.TableDescription.LatestStreamArn);
  let events = [];
  for (let attempt = 0; attempt < 40 && events.length < 16; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    events = [];
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn }));
    for (const shard of StreamDescription.Shards) {
      let { ShardIterator } = await streams.send(new GetShardIteratorCommand({
        StreamArn, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON",
      }));
      while (ShardIterator) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator, Limit: 5 }));
        events.push(...page.Records.map((r) => `${r.eventName} ${r.dynamodb.Keys.p.S}`));
        ShardIterator = page.Records.length ? page.NextShardIterator : undefined;
      }
    }
  }
  assert.deepEqual(events.filter((e) => e.endsWith(" solo")),
    ["INSERT solo", "MODIFY solo", "REMOVE solo"]);
  assert.equal(events.filter((e) => e === "INSERT many").length, 10);
  assert.deepEqual(events.filter((e) => e.endsWith(" txn")), ["INSERT txn", "REMOVE txn"]);
  assert.equal(events.length, 16); // and the transaction's MODIFY of "many" 0

  await client.send(new DeleteTableCommand({ TableName }));
  await waitUntilTableNotExists(waiter, { TableName });
  console.log("ok");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
