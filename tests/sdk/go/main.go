// The AWS SDK for Go v2 against alternator, as an application uses it: service/dynamodb with
// its waiters and paginators, and feature/dynamodb/attributevalue for Go structs. Checksum
// validation of responses (x-amz-crc32) stays on, as it is by default; the SDK's logger writes
// to stderr, where tests/test_sdk_clients.py fails on anything it finds. Run with
// ALTERNATOR_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ALTERNATOR_TABLE (and
// ALTERNATOR_CA over HTTPS). Prints "ok" when all passed.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// [docs:begin]
import (
	"bytes"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func connect(ctx context.Context) (*dynamodb.Client, error) {
	options := []func(*config.LoadOptions) error{
		config.WithRegion("us-east-1"), // any region: requests are signed for it
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			os.Getenv("AWS_ACCESS_KEY_ID"),     // a role name, e.g. alternator
			os.Getenv("AWS_SECRET_ACCESS_KEY"), // `alternator role secret NAME`
			"")),
	}
	// Over HTTPS: trust the server's CA (or export AWS_CA_BUNDLE=<state dir>/serving-ca.crt).
	if caFile := os.Getenv("ALTERNATOR_CA"); caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		options = append(options, config.WithCustomCABundle(bytes.NewReader(pem)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, options...)
	if err != nil {
		return nil, err
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(os.Getenv("ALTERNATOR_ENDPOINT")) // e.g. http://127.0.0.1:8000
	}), nil
}

// [docs:end]

type Row struct {
	P    string   `dynamodbav:"p"`
	C    int      `dynamodbav:"c"`
	N    int      `dynamodbav:"n"`
	Tags []string `dynamodbav:"tags,stringset,omitempty"`
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAILED:", err)
		os.Exit(1)
	}
}

func require(ok bool, format string, args ...any) {
	if !ok {
		fmt.Fprintf(os.Stderr, "FAILED: "+format+"\n", args...)
		os.Exit(1)
	}
}

func key(p string, c int) map[string]types.AttributeValue {
	k, err := attributevalue.MarshalMap(struct {
		P string `dynamodbav:"p"`
		C int    `dynamodbav:"c"`
	}{p, c})
	check(err)
	return k
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	client, err := connect(ctx)
	check(err)
	table := aws.String(os.Getenv("ALTERNATOR_TABLE"))

	// Table life cycle, with the SDK's waiters.
	_, err = client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: table,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("p"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("c"), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("p"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("c"), AttributeType: types.ScalarAttributeTypeN},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	check(err)
	check(dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 2*time.Second
	}).Wait(ctx, &dynamodb.DescribeTableInput{TableName: table}, 2*time.Minute))
	tables, err := client.ListTables(ctx, &dynamodb.ListTablesInput{})
	check(err)
	require(slices.Contains(tables.TableNames, *table), "ListTables lacks %s", *table)

	// Items, with conditions.
	item, err := attributevalue.MarshalMap(Row{P: "solo", C: 1, N: 0, Tags: []string{"a", "b"}})
	check(err)
	_, err = client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: table, Item: item, ConditionExpression: aws.String("attribute_not_exists(p)"),
	})
	check(err)
	_, err = client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: table, Item: item, ConditionExpression: aws.String("attribute_not_exists(p)"),
	})
	var failed *types.ConditionalCheckFailedException
	require(errors.As(err, &failed), "second conditional put: %v", err)
	updated, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: table, Key: key("solo", 1),
		UpdateExpression:    aws.String("SET n = n + :one"),
		ConditionExpression: aws.String("n = :zero"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one":  &types.AttributeValueMemberN{Value: "1"},
			":zero": &types.AttributeValueMemberN{Value: "0"},
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	check(err)
	var row Row
	check(attributevalue.UnmarshalMap(updated.Attributes, &row))
	require(row.N == 1 && len(row.Tags) == 2, "updated item: %+v", row)
	got, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key("solo", 1),
		ConsistentRead: aws.Bool(true)})
	check(err)
	check(attributevalue.UnmarshalMap(got.Item, &row))
	require(row.N == 1, "GetItem: %+v", row)

	// Batches.
	var writes []types.WriteRequest
	for c := 0; c < 10; c++ {
		item, err := attributevalue.MarshalMap(Row{P: "many", C: c})
		check(err)
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	written, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
		RequestItems: map[string][]types.WriteRequest{*table: writes},
	})
	check(err)
	require(len(written.UnprocessedItems) == 0, "unprocessed: %v", written.UnprocessedItems)
	batch, err := client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
		RequestItems: map[string]types.KeysAndAttributes{*table: {
			Keys: []map[string]types.AttributeValue{key("many", 3), key("many", 7), key("solo", 1)},
		}},
	})
	check(err)
	require(len(batch.Responses[*table]) == 3, "BatchGetItem: %v", batch.Responses)

	// Query and Scan, a page at a time.
	query := dynamodb.NewQueryPaginator(client, &dynamodb.QueryInput{
		TableName: table, Limit: aws.Int32(3),
		KeyConditionExpression: aws.String("p = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":p": &types.AttributeValueMemberS{Value: "many"},
		},
	})
	var sortKeys []int
	pages := 0
	for query.HasMorePages() {
		page, err := query.NextPage(ctx)
		check(err)
		pages++
		var rows []Row
		check(attributevalue.UnmarshalListOfMaps(page.Items, &rows))
		for _, r := range rows {
			sortKeys = append(sortKeys, r.C)
		}
	}
	require(slices.Equal(sortKeys, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), "Query: %v", sortKeys)
	require(pages >= 4, "Query came in %d pages", pages)
	scan := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: table, Limit: aws.Int32(4)})
	scanned := 0
	for scan.HasMorePages() {
		page, err := scan.NextPage(ctx)
		check(err)
		scanned += len(page.Items)
	}
	require(scanned == 11, "Scan found %d items", scanned)

	_, err = client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: table, Key: key("solo", 1), ConditionExpression: aws.String("n = :zero"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":zero": &types.AttributeValueMemberN{Value: "0"},
		},
	})
	require(errors.As(err, &failed), "conditional delete: %v", err)
	_, err = client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: table, Key: key("solo", 1)})
	check(err)

	_, err = client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: table})
	check(err)
	check(dynamodb.NewTableNotExistsWaiter(client, func(o *dynamodb.TableNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 2*time.Second
	}).Wait(ctx, &dynamodb.DescribeTableInput{TableName: table}, 2*time.Minute))
	fmt.Println("ok")
}
