import { createAwsClients } from '../../src/aws/clients.js';
import { readSecretParameter } from '../../src/aws/ssm.js';
import { snsPublisher } from '../../src/notify/sns.js';
import { stripeSignatureVerifier } from '../../src/stripe/webhookSignature.js';
import { dynamoEventLedger, dynamoInvoiceStore, dynamoSubscriptionStore } from '../../src/store/webhookStore.js';
import { webhookConfigFrom } from '../../src/webhooks/config.js';
import { cachedSecrets } from '../../src/webhooks/secrets.js';
import { createWebhookService, type WebhookService, type WebhookServiceDeps } from '../../src/webhooks/service.js';
import { jsonTelemetry } from '../../src/webhooks/telemetry.js';

/** Builds the webhook service on AWS from the Lambda's environment; `overrides` swap single adapters (bench, backfill). */
export function webhookServiceFromEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
  overrides: Partial<WebhookServiceDeps> = {},
): WebhookService {
  const config = webhookConfigFrom(env);
  const aws = createAwsClients();
  return createWebhookService({
    ledger: dynamoEventLedger(aws.dynamo, config.billingTable),
    invoices: dynamoInvoiceStore(aws.dynamo, config.billingTable),
    subscriptions: dynamoSubscriptionStore(aws.dynamo, config.subscriptionsTable),
    publish: snsPublisher(aws.sns, config.snsTopicArn),
    secrets: cachedSecrets(() => readSecretParameter(aws.ssm, config.secretParameter), config.secretCacheTtlMs),
    verify: stripeSignatureVerifier,
    telemetry: jsonTelemetry(),
    clock: Date.now,
    maxBodyBytes: config.maxBodyBytes,
    ...overrides,
  });
}
