import { createDynamoClient, createSnsClient, createSsmClient } from '../../src/aws/clients.js';
import { readSecretParameter } from '../../src/aws/ssm.js';
import { snsPublisher } from '../../src/notify/sns.js';
import { stripeSignatureVerifier } from '../../src/stripe/webhookSignature.js';
import { dynamoEventLedger, dynamoInvoiceStore, dynamoSubscriptionStore } from '../../src/store/webhookStore.js';
import { webhookConfigFrom } from '../../src/webhooks/config.js';
import { cachedSecrets } from '../../src/webhooks/secrets.js';
import { createWebhookService, type WebhookService, type WebhookServiceDeps } from '../../src/webhooks/service.js';
import { jsonTelemetry, stdoutWriter } from '../../src/webhooks/telemetry.js';

/** Builds the webhook service on AWS from the Lambda's environment; `overrides` swap single adapters (bench, backfill). */
export function webhookServiceFromEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
  overrides: Partial<WebhookServiceDeps> = {},
): WebhookService {
  const config = webhookConfigFrom(env);
  const dynamo = createDynamoClient();
  const ssm = createSsmClient();
  return createWebhookService({
    ledger: dynamoEventLedger(dynamo, config.billingTable),
    invoices: dynamoInvoiceStore(dynamo, config.billingTable),
    subscriptions: dynamoSubscriptionStore(dynamo, config.subscriptionsTable),
    publish: snsPublisher(createSnsClient(), config.snsTopicArn),
    secrets: cachedSecrets(() => readSecretParameter(ssm, config.secretParameter), config.secretCacheTtlMs),
    verify: stripeSignatureVerifier,
    telemetry: jsonTelemetry(stdoutWriter, Date.now, { embeddedMetrics: config.metrics === 'emf' }),
    clock: Date.now,
    maxBodyBytes: config.maxBodyBytes,
    ...overrides,
  });
}
