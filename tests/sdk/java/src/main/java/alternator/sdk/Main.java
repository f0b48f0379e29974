// The AWS SDK for Java v2 against alternator, as an application uses it: DynamoDbClient with
// its waiters and paginators for the table, and the Enhanced Client with an annotated bean for
// items. Run by tests/test_sdk_clients.py with ALTERNATOR_ENDPOINT, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and ALTERNATOR_TABLE set (and -Djavax.net.ssl.trustStore=... over
// HTTPS). Prints "ok" when all passed.
package alternator.sdk;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import software.amazon.awssdk.enhanced.dynamodb.DynamoDbEnhancedClient;
import software.amazon.awssdk.enhanced.dynamodb.DynamoDbTable;
import software.amazon.awssdk.enhanced.dynamodb.Expression;
import software.amazon.awssdk.enhanced.dynamodb.Key;
import software.amazon.awssdk.enhanced.dynamodb.TableSchema;
import software.amazon.awssdk.enhanced.dynamodb.mapper.annotations.DynamoDbBean;
import software.amazon.awssdk.enhanced.dynamodb.mapper.annotations.DynamoDbPartitionKey;
import software.amazon.awssdk.enhanced.dynamodb.mapper.annotations.DynamoDbSortKey;
import software.amazon.awssdk.enhanced.dynamodb.model.BatchGetItemEnhancedRequest;
import software.amazon.awssdk.enhanced.dynamodb.model.BatchWriteItemEnhancedRequest;
import software.amazon.awssdk.enhanced.dynamodb.model.PutItemEnhancedRequest;
import software.amazon.awssdk.enhanced.dynamodb.model.QueryConditional;
import software.amazon.awssdk.enhanced.dynamodb.model.QueryEnhancedRequest;
import software.amazon.awssdk.enhanced.dynamodb.model.ReadBatch;
import software.amazon.awssdk.enhanced.dynamodb.model.WriteBatch;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemResponse;
import software.amazon.awssdk.services.dynamodb.waiters.DynamoDbWaiter;

// [docs:begin]
import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

// [docs:end]
public final class Main {
    /** An item of the table, mapped by the Enhanced Client. */
    @DynamoDbBean
    public static class Row {
        private String p;
        private Integer c;
        private Integer n;
        private Set<String> tags;

        @DynamoDbPartitionKey
        public String getP() { return p; }
        public void setP(String p) { this.p = p; }
        @DynamoDbSortKey
        public Integer getC() { return c; }
        public void setC(Integer c) { this.c = c; }
        public Integer getN() { return n; }
        public void setN(Integer n) { this.n = n; }
        public Set<String> getTags() { return tags; }
        public void setTags(Set<String> tags) { this.tags = tags; }

        static Row of(String p, int c) {
            Row row = new Row();
            row.setP(p);
            row.setC(c);
            return row;
        }
    }

    static DynamoDbClient connect() {
        // [docs:begin]
        // Over HTTPS, run java with -Djavax.net.ssl.trustStore=alternator-ca.p12 (made by keytool
        // from <state dir>/serving-ca.crt): the SDK does not read AWS_CA_BUNDLE.
        DynamoDbClient client = DynamoDbClient.builder()
                .endpointOverride(URI.create(System.getenv("ALTERNATOR_ENDPOINT"))) // http://127.0.0.1:8000
                .region(Region.US_EAST_1) // any region: requests are signed for it
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        System.getenv("AWS_ACCESS_KEY_ID"), // a role name, e.g. alternator
                        System.getenv("AWS_SECRET_ACCESS_KEY")))) // `alternator role secret NAME`
                .build();
        // [docs:end]
        return client;
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    public static void main(String[] args) {
        String tableName = System.getenv("ALTERNATOR_TABLE");
        try (DynamoDbClient client = connect(); DynamoDbWaiter waiter = client.waiter()) {
            // Table life cycle, with the SDK's waiters.
            var created = client.createTable(b -> b.tableName(tableName)
                    .keySchema(KeySchemaElement.builder().attributeName("p").keyType(KeyType.HASH).build(),
                               KeySchemaElement.builder().attributeName("c").keyType(KeyType.RANGE).build())
                    .attributeDefinitions(
                            AttributeDefinition.builder().attributeName("p").attributeType(ScalarAttributeType.S).build(),
                            AttributeDefinition.builder().attributeName("c").attributeType(ScalarAttributeType.N).build())
                    .billingMode(BillingMode.PAY_PER_REQUEST));
            check(created.responseMetadata().requestId() != null
                  && !created.responseMetadata().requestId().equals("UNKNOWN"), "request id");
            waiter.waitUntilTableExists(b -> b.tableName(tableName)).matched().response().orElseThrow();
            check(client.listTables().tableNames().contains(tableName), "ListTables");

            // Items, with conditions, through the Enhanced Client.
            DynamoDbEnhancedClient enhanced = DynamoDbEnhancedClient.builder().dynamoDbClient(client).build();
            DynamoDbTable<Row> table = enhanced.table(tableName, TableSchema.fromBean(Row.class));
            Row solo = Row.of("solo", 1);
            solo.setN(0);
            solo.setTags(Set.of("a", "b"));
            Expression notExists = Expression.builder().expression("attribute_not_exists(p)").build();
            table.putItem(PutItemEnhancedRequest.builder(Row.class).item(solo).conditionExpression(notExists).build());
            try {
                table.putItem(PutItemEnhancedRequest.builder(Row.class).item(solo).conditionExpression(notExists).build());
                throw new AssertionError("second conditional put succeeded");
            } catch (ConditionalCheckFailedException expected) {
                // as DynamoDB does
            }
            UpdateItemResponse updated = client.updateItem(b -> b.tableName(tableName)
                    .key(Map.of("p", AttributeValue.fromS("solo"), "c", AttributeValue.fromN("1")))
                    .updateExpression("SET n = n + :one").conditionExpression("n = :zero")
                    .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"), ":zero", AttributeValue.fromN("0")))
                    .returnValues(ReturnValue.ALL_NEW));
            check(updated.attributes().get("n").n().equals("1"), "UpdateItem");
            Row got = table.getItem(Key.builder().partitionValue("solo").sortValue(1).build());
            check(got.getN() == 1 && got.getTags().equals(Set.of("a", "b")), "GetItem");

            // Batches.
            WriteBatch.Builder<Row> writes = WriteBatch.builder(Row.class).mappedTableResource(table);
            for (int c = 0; c < 10; c++) {
                writes.addPutItem(Row.of("many", c));
            }
            var written = enhanced.batchWriteItem(BatchWriteItemEnhancedRequest.builder().addWriteBatch(writes.build()).build());
            check(written.unprocessedPutItemsForTable(table).isEmpty(), "BatchWriteItem");
            var batch = enhanced.batchGetItem(BatchGetItemEnhancedRequest.builder().readBatches(
                    ReadBatch.builder(Row.class).mappedTableResource(table)
                            .addGetItem(Key.builder().partitionValue("many").sortValue(3).build())
                            .addGetItem(Key.builder().partitionValue("many").sortValue(7).build())
                            .addGetItem(Key.builder().partitionValue("solo").sortValue(1).build())
                            .build()).build());
            check(batch.resultsForTable(table).stream().count() == 3, "BatchGetItem");

            // Query and Scan, a page at a time.
            var pages = table.query(QueryEnhancedRequest.builder()
                    .queryConditional(QueryConditional.keyEqualTo(Key.builder().partitionValue("many").build()))
                    .limit(3).build());
            check(pages.stream().count() >= 4, "Query pages");
            List<Integer> sortKeys = pages.items().stream().map(Row::getC).collect(Collectors.toList());
            check(sortKeys.equals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)), "Query: " + sortKeys);
            long scanned = client.scanPaginator(b -> b.tableName(tableName).limit(4)).items().stream().count();
            check(scanned == 11, "Scan found " + scanned);

            try {
                client.deleteItem(b -> b.tableName(tableName)
                        .key(Map.of("p", AttributeValue.fromS("solo"), "c", AttributeValue.fromN("1")))
                        .conditionExpression("n = :zero")
                        .expressionAttributeValues(Map.of(":zero", AttributeValue.fromN("0"))));
                throw new AssertionError("conditional delete succeeded");
            } catch (ConditionalCheckFailedException expected) {
                // as DynamoDB does
            }
            table.deleteItem(Key.builder().partitionValue("solo").sortValue(1).build());

            client.deleteTable(b -> b.tableName(tableName));
            waiter.waitUntilTableNotExists(b -> b.tableName(tableName)).matched().exception().orElseThrow();
        }
        System.out.println("ok");
    }
}
