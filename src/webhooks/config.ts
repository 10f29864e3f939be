import { ConfigError } from '../errors.js';

/** Settings of the webhook Lambda, read once from its environment (set by infrastructure.yaml). */
export interface WebhookConfig {
  readonly billingTable: string;
  readonly subscriptionsTable: string;
  readonly snsTopicArn: string;
  readonly secretParameter: string;
  readonly secretCacheTtlMs: number;
  readonly maxBodyBytes: number;
  /** emf: one embedded-metric-format line per delivery (paid custom metrics); off: the delivery's log line only. */
  readonly metrics: WebhookMetrics;
}

export const WEBHOOK_METRICS = ['emf', 'off'] as const;
export type WebhookMetrics = (typeof WEBHOOK_METRICS)[number];

export const DEFAULT_SECRET_PARAMETER = '/stripe/webhook-secret';
export const DEFAULT_SECRET_CACHE_TTL_SECONDS = 300;
/** Stripe event payloads stay well under this (invoice lines are truncated to 10 per payload). */
export const DEFAULT_MAX_BODY_BYTES = 512 * 1024;

type Environment = Readonly<Record<string, string | undefined>>;

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const TOPIC_ARN = /^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+(\.fifo)?$/;
const PARAMETER_NAME = /^\/?[\w.\-/]+$/;

/** Reads and checks every variable, then fails once with all problems, each naming the variable and its form. */
export function webhookConfigFrom(env: Environment): WebhookConfig {
  const problems: string[] = [];
  const read = (variable: string, pattern: RegExp, missing: string | undefined, malformed: string): string => {
    const value = env[variable];
    if (value === undefined || value === '') {
      if (missing !== undefined) problems.push(`${variable}: ${missing}`);
      return '';
    }
    if (!pattern.test(value)) problems.push(`${variable}: ${malformed}`);
    return value;
  };
  const positive = (variable: string, fallback: number): number => {
    const value = read(variable, /^[1-9]\d*$/, undefined, `a whole number above 0 such as ${fallback}`);
    return /^[1-9]\d*$/.test(value) ? Number(value) : fallback;
  };

  const config = {
    billingTable: read('BILLING_TABLE', TABLE_NAME, 'set it to the DynamoDB table name', 'a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)'),
    subscriptionsTable: read('SUBSCRIPTIONS_TABLE', TABLE_NAME, 'set it to the DynamoDB table name', 'a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)'),
    snsTopicArn: read(
      'SNS_TOPIC_ARN',
      TOPIC_ARN,
      'set it to the billing notifications topic ARN',
      'a topic ARN such as arn:aws:sns:us-east-1:123456789012:billing',
    ),
    secretParameter:
      read('WEBHOOK_SECRET_PARAMETER', PARAMETER_NAME, undefined, 'an SSM parameter name such as /stripe/webhook-secret') || DEFAULT_SECRET_PARAMETER,
    secretCacheTtlMs: positive('SECRET_CACHE_TTL_SECONDS', DEFAULT_SECRET_CACHE_TTL_SECONDS) * 1000,
    maxBodyBytes: positive('MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES),
    metrics: (read('WEBHOOK_METRICS', /^(emf|off)$/, undefined, `${WEBHOOK_METRICS.join(' or ')}`) || 'emf') as WebhookMetrics,
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
