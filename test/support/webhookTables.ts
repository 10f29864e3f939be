import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TEST_CREDENTIALS, TEST_REGION } from './moto.js';
import { createWebhookTables } from './webhookLambda.js';

/** Fresh webhook tables on a DynamoDB endpoint (moto or dynalite) and a document client for them. */
export async function webhookTables(dynamoEndpoint: string) {
  const dynamo = new DynamoDBClient({ region: TEST_REGION, credentials: TEST_CREDENTIALS, endpoint: dynamoEndpoint });
  const tables = await createWebhookTables(dynamo);
  return { documents: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }), tables };
}
