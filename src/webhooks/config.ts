import { z } from 'zod';
import { ConfigError } from '../errors.js';

/** Settings of the webhook Lambda, read once from its environment (set by infrastructure.yaml). */
export interface WebhookConfig {
  readonly billingTable: string;
  readonly subscriptionsTable: string;
  readonly snsTopicArn: string;
  readonly secretParameter: string;
  readonly secretCacheTtlMs: number;
  readonly maxBodyBytes: number;
}

export const DEFAULT_SECRET_PARAMETER = '/stripe/webhook-secret';
export const DEFAULT_SECRET_CACHE_TTL_SECONDS = 300;
/** Stripe event payloads stay well under this (invoice lines are truncated to 10 per payload). */
export const DEFAULT_MAX_BODY_BYTES = 512 * 1024;

const tableName = (variable: string) =>
  z.string({ error: `${variable}: set it to the DynamoDB table name` }).regex(/^[A-Za-z0-9_.-]{3,255}$/, `${variable}: a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)`);
const positiveInteger = (variable: string, example: string) =>
  z.coerce.number({ error: `${variable}: a whole number such as ${example}` }).int(`${variable}: a whole number such as ${example}`).positive(`${variable}: a number above 0 such as ${example}`);

const environmentSchema = z.object({
  BILLING_TABLE: tableName('BILLING_TABLE'),
  SUBSCRIPTIONS_TABLE: tableName('SUBSCRIPTIONS_TABLE'),
  SNS_TOPIC_ARN: z.string({ error: 'SNS_TOPIC_ARN: set it to the billing notifications topic ARN' }).regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+(\.fifo)?$/, 'SNS_TOPIC_ARN: a topic ARN such as arn:aws:sns:us-east-1:123456789012:billing'),
  WEBHOOK_SECRET_PARAMETER: z.string().regex(/^\/?[\w.\-/]+$/, 'WEBHOOK_SECRET_PARAMETER: an SSM parameter name such as /stripe/webhook-secret').default(DEFAULT_SECRET_PARAMETER),
  SECRET_CACHE_TTL_SECONDS: positiveInteger('SECRET_CACHE_TTL_SECONDS', '300').default(DEFAULT_SECRET_CACHE_TTL_SECONDS),
  MAX_BODY_BYTES: positiveInteger('MAX_BODY_BYTES', '524288').default(DEFAULT_MAX_BODY_BYTES),
});

export function webhookConfigFrom(env: Readonly<Record<string, string | undefined>>): WebhookConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  const settings = parsed.data;
  return {
    billingTable: settings.BILLING_TABLE,
    subscriptionsTable: settings.SUBSCRIPTIONS_TABLE,
    snsTopicArn: settings.SNS_TOPIC_ARN,
    secretParameter: settings.WEBHOOK_SECRET_PARAMETER,
    secretCacheTtlMs: settings.SECRET_CACHE_TTL_SECONDS * 1000,
    maxBodyBytes: settings.MAX_BODY_BYTES,
  };
}
