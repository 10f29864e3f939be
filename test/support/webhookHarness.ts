import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { HttpApiRequest } from '../../lambda/billing-handler/handler.js';
import { invoiceKey, subscriptionKey } from '../../src/records/keys.js';
import type { WebhookResponse } from '../../src/webhooks/service.js';
import type { Moto } from './moto.js';
import { TEST_CREDENTIALS, TEST_REGION } from './moto.js';
import { captureStdout, createWebhookResources, handlerEnvironment, loadHandler, type WebhookHandler, type WebhookResources } from './webhookLambda.js';

/**
 * One "deployment" of the built handler for a test: fresh tables, topic and secret parameter on moto (DynamoDB
 * optionally elsewhere, e.g. dynalite or a fault proxy), plus readers for what the handler wrote and published.
 */
export interface WebhookHarness {
  readonly resources: WebhookResources;
  /** Every stdout line the handler wrote (JSON logs and metric lines). */
  readonly output: string[];
  deliver(request: HttpApiRequest): Promise<WebhookResponse>;
  /** A fresh container of the same deployment (cold start: secrets and clients loaded again). */
  coldStart(extraEnv?: Record<string, string>): void;
  invoice(invoiceId: string): Promise<Record<string, unknown> | undefined>;
  subscription(subscriptionId: string): Promise<Record<string, unknown> | undefined>;
  itemCount(): Promise<number>;
  messages(): Promise<Array<{ message: string; attributes: Record<string, string> }>>;
  readonly documents: DynamoDBDocumentClient;
}

export async function deployHarness(
  moto: Moto,
  bundle: string,
  options: { secretValue: string; dynamoEndpoint?: string; handlerDynamoEndpoint?: string; snsEndpoint?: string; env?: Record<string, string> },
): Promise<WebhookHarness> {
  const base = { region: TEST_REGION, credentials: TEST_CREDENTIALS };
  const dynamo = new DynamoDBClient({ ...base, endpoint: options.dynamoEndpoint ?? moto.endpoint });
  const documents = DynamoDBDocumentClient.from(dynamo);
  const sns = new SNSClient({ ...base, endpoint: moto.endpoint });
  const ssm = new SSMClient({ ...base, endpoint: moto.endpoint });
  const resources = await createWebhookResources({ dynamo, sns, ssm }, options.secretValue);
  const output: string[] = [];
  const handlerDynamo = options.handlerDynamoEndpoint ?? options.dynamoEndpoint;
  const env = (extra: Record<string, string> = {}) => ({
    ...moto.env,
    ...handlerEnvironment(resources),
    ...(handlerDynamo ? { AWS_ENDPOINT_URL_DYNAMODB: handlerDynamo } : {}),
    ...(options.snsEndpoint ? { AWS_ENDPOINT_URL_SNS: options.snsEndpoint } : {}),
    ...options.env,
    ...extra,
  });
  let handler: WebhookHandler = loadHandler(bundle, env());
  const scanCount = async (table: string) => (await dynamo.send(new ScanCommand({ TableName: table, Select: 'COUNT' }))).Count ?? 0;
  return {
    resources,
    output,
    documents,
    async deliver(request) {
      return captureStdout(output, () => handler(request));
    },
    coldStart(extraEnv) {
      handler = loadHandler(bundle, env(extraEnv));
    },
    async invoice(invoiceId) {
      return (await documents.send(new GetCommand({ TableName: resources.billingTable, Key: invoiceKey(invoiceId), ConsistentRead: true }))).Item;
    },
    async subscription(subscriptionId) {
      return (await documents.send(new GetCommand({ TableName: resources.subscriptionsTable, Key: subscriptionKey(subscriptionId), ConsistentRead: true })))
        .Item;
    },
    async itemCount() {
      return (await scanCount(resources.billingTable)) + (await scanCount(resources.subscriptionsTable));
    },
    async messages() {
      return (await moto.snsMessages()).filter((message) => message.topicArn === resources.topicArn);
    },
  };
}
