import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { HttpApiRequest } from '../../lambda/billing-handler/handler.js';
import { bundleLambda } from '../../scripts/lambdaBundle.mjs';
import type { WebhookResponse } from '../../src/webhooks/service.js';
import { BILLING_TABLE_KEYS, BY_CUSTOMER_INDEX, BY_STRIPE_CUSTOMER_INDEX, SUBSCRIPTIONS_TABLE_KEYS } from '../../src/records/keys.js';

export type WebhookHandler = (request: HttpApiRequest) => Promise<WebhookResponse>;

/**
 * Bundles lambda/billing-handler/handler.ts exactly as scripts/build.mjs does (esbuild, CommonJS, node24,
 * minified) into a private folder, so test files running side by side do not overwrite each other's bundle.
 */
export function buildWebhookBundle(): string {
  return bundleLambda('lambda/billing-handler/handler.ts', join(mkdtempSync(join(tmpdir(), 'billing-handler-')), 'handler.cjs'));
}

const require = createRequire(import.meta.url);

/** Makes `env` the handler's environment, dropping what an earlier deployment in this process set. */
export function applyEnvironment(env: Readonly<Record<string, string>>): void {
  for (const name of [
    'BILLING_TABLE',
    'SUBSCRIPTIONS_TABLE',
    'SNS_TOPIC_ARN',
    'WEBHOOK_SECRET_PARAMETER',
    'SECRET_CACHE_TTL_SECONDS',
    'MAX_BODY_BYTES',
    'AWS_ENDPOINT_URL_DYNAMODB',
    'AWS_ENDPOINT_URL_SNS',
  ]) {
    delete process.env[name];
  }
  Object.assign(process.env, env);
}

/**
 * Loads the bundle as a fresh Lambda container would: a new module instance that reads its environment on the
 * first call. The returned handler applies `env` before every call, so deployments in one test file stay apart.
 */
export function loadHandler(bundle: string, env: Readonly<Record<string, string>>): WebhookHandler {
  delete require.cache[require.resolve(bundle)];
  const handler = (require(bundle) as { handler: WebhookHandler }).handler;
  return (request) => {
    applyEnvironment(env);
    return handler(request);
  };
}

export interface WebhookResources {
  readonly billingTable: string;
  readonly subscriptionsTable: string;
  readonly topicArn: string;
  readonly secretParameter: string;
}

let counter = 0;

/** The topic and the secret parameter next to fresh tables (createWebhookTables), all with fresh names. */
export async function createWebhookResources(
  clients: { dynamo: DynamoDBClient; sns: SNSClient; ssm: SSMClient },
  secretValue: string,
): Promise<WebhookResources> {
  const tables = await createWebhookTables(clients.dynamo);
  const secretParameter = `/stripe/webhook-secret-${tables.suffix}`;
  const topic = await clients.sns.send(new CreateTopicCommand({ Name: `billing-${tables.suffix}` }));
  await clients.ssm.send(new PutParameterCommand({ Name: secretParameter, Type: 'SecureString', Value: secretValue, Overwrite: true }));
  return { billingTable: tables.billingTable, subscriptionsTable: tables.subscriptionsTable, topicArn: topic.TopicArn ?? '', secretParameter };
}

/** The billing and subscriptions tables shaped as docs/webhooks.md describes them, with fresh names. */
export async function createWebhookTables(dynamo: DynamoDBClient) {
  const suffix = `${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  const billingTable = `billing-${suffix}`;
  const subscriptionsTable = `subscriptions-${suffix}`;
  await createTable(dynamo, billingTable, { partition: BILLING_TABLE_KEYS.partition, sort: BILLING_TABLE_KEYS.sort }, BY_CUSTOMER_INDEX);
  await createTable(dynamo, subscriptionsTable, { partition: SUBSCRIPTIONS_TABLE_KEYS.partition }, BY_STRIPE_CUSTOMER_INDEX);
  return { suffix, billingTable, subscriptionsTable };
}

interface KeyNames {
  readonly partition: string;
  readonly sort?: string;
}

async function createTable(dynamo: DynamoDBClient, name: string, key: KeyNames, index: KeyNames & { readonly name: string }) {
  const keySchema = (names: KeyNames) => [
    { AttributeName: names.partition, KeyType: 'HASH' as const },
    ...(names.sort ? [{ AttributeName: names.sort, KeyType: 'RANGE' as const }] : []),
  ];
  const attributes = new Set([key.partition, key.sort, index.partition, index.sort].filter((attribute) => attribute !== undefined));
  await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attributes].map((attribute) => ({ AttributeName: attribute, AttributeType: 'S' })),
      KeySchema: keySchema(key),
      GlobalSecondaryIndexes: [{ IndexName: index.name, KeySchema: keySchema(index), Projection: { ProjectionType: 'ALL' } }],
    }),
  );
}

export function handlerEnvironment(resources: WebhookResources): Record<string, string> {
  return {
    BILLING_TABLE: resources.billingTable,
    SUBSCRIPTIONS_TABLE: resources.subscriptionsTable,
    SNS_TOPIC_ARN: resources.topicArn,
    WEBHOOK_SECRET_PARAMETER: resources.secretParameter,
  };
}

const sinks = new Map<string[], number>();
let originalWrite: typeof process.stdout.write | undefined;

/**
 * Appends what the handler writes to stdout (its JSON logs and metric lines) to `sink` while `run` runs.
 * Overlapping runs may share one sink: each line lands in it once.
 */
export async function captureStdout<T>(sink: string[], run: () => Promise<T>): Promise<T> {
  if (!sinks.size) {
    originalWrite = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      const written = String(chunk).split('\n').filter(Boolean);
      for (const target of sinks.keys()) target.push(...written);
      return true;
    }) as typeof process.stdout.write;
  }
  sinks.set(sink, (sinks.get(sink) ?? 0) + 1);
  try {
    return await run();
  } finally {
    const remaining = (sinks.get(sink) ?? 1) - 1;
    if (remaining) sinks.set(sink, remaining);
    else sinks.delete(sink);
    if (!sinks.size && originalWrite) process.stdout.write = originalWrite;
  }
}
