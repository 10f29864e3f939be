import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { webhookConfigFrom } from '../../../src/webhooks/config.js';

const required = {
  BILLING_TABLE: 'billing',
  SUBSCRIPTIONS_TABLE: 'billing-subscriptions',
  SNS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:billing-notifications',
};

describe('webhookConfigFrom', () => {
  it('applies the defaults for the secret parameter, its cache TTL and the body limit', () => {
    expect(webhookConfigFrom(required)).toEqual({
      billingTable: 'billing',
      subscriptionsTable: 'billing-subscriptions',
      snsTopicArn: required.SNS_TOPIC_ARN,
      secretParameter: '/stripe/webhook-secret',
      secretCacheTtlMs: 300_000,
      maxBodyBytes: 524_288,
      metrics: 'emf',
    });
  });

  it('switches the embedded metrics off with WEBHOOK_METRICS=off and names the accepted values otherwise', () => {
    expect(webhookConfigFrom({ ...required, WEBHOOK_METRICS: 'off' }).metrics).toBe('off');
    expect(() => webhookConfigFrom({ ...required, WEBHOOK_METRICS: 'none' })).toThrow(/WEBHOOK_METRICS: emf or off/);
  });

  it('reads the optional settings', () => {
    expect(
      webhookConfigFrom({ ...required, WEBHOOK_SECRET_PARAMETER: '/prod/stripe/whsec', SECRET_CACHE_TTL_SECONDS: '60', MAX_BODY_BYTES: '100000' }),
    ).toMatchObject({
      secretParameter: '/prod/stripe/whsec',
      secretCacheTtlMs: 60_000,
      maxBodyBytes: 100_000,
    });
  });

  it('names every missing or malformed variable and its accepted form at once', () => {
    let problems: readonly string[] = [];
    try {
      webhookConfigFrom({ SNS_TOPIC_ARN: 'billing', MAX_BODY_BYTES: 'lots', SECRET_CACHE_TTL_SECONDS: '0' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([
      'BILLING_TABLE: set it to the DynamoDB table name',
      'SUBSCRIPTIONS_TABLE: set it to the DynamoDB table name',
      'SNS_TOPIC_ARN: a topic ARN such as arn:aws:sns:us-east-1:123456789012:billing',
      'SECRET_CACHE_TTL_SECONDS: a whole number above 0 such as 300',
      'MAX_BODY_BYTES: a whole number above 0 such as 524288',
    ]);
  });
});
