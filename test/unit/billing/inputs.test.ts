import { describe, expect, it } from 'vitest';
import { parseBillingInputs } from '../../../src/billing/inputs.js';
import { ConfigError } from '../../../src/errors.js';

const now = new Date('2026-11-10T07:00:00Z');
const reader = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';

describe('parseBillingInputs', () => {
  it('defaults to a scheduled run of the current period with the standard paths', () => {
    const inputs = parseBillingInputs(reader({ 'billing-table': 'billing' }), now);
    expect(inputs).toMatchObject({
      config: 'billing.config.yaml',
      costReport: 'cost-report.json',
      stripeSecretParameter: '/stripe/prod/secret-key',
      billingTable: 'billing',
      snsTopicArn: undefined,
    });
    expect(inputs.request).toMatchObject({ mode: 'scheduled', dryRun: false, period: { id: '2026-11' } });
  });

  it('trues up the previous period by default', () => {
    expect(parseBillingInputs(reader({ mode: 'true-up', 'billing-table': 'billing' }), now).request.period.id).toBe('2026-10');
  });

  it('lets a dry run go without a billing table', () => {
    expect(parseBillingInputs(reader({ 'dry-run': 'true' }), now).billingTable).toBeUndefined();
  });

  it('reports every problem at once, naming the input and the accepted form', () => {
    let caught: unknown;
    try {
      parseBillingInputs(reader({ mode: 'fixed-amount', amount: '-3', period: '2026-13', 'dry-run': 'maybe', 'sns-topic-arn': 'billing-topic' }), now);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toEqual([
      'input period "2026-13" is not a billing period: use "current", "previous" or a month as YYYY-MM (e.g. 2026-11)',
      'input dry-run is "maybe"; expected true or false',
      'input customer is ""; expected the id of a customer from the billing config: mode fixed-amount bills one customer',
      'input description is ""; expected the text of the invoice line, such as "Migration support, November"',
      'input amount is "-3"; expected a positive amount in the customer\'s currency, such as 250.00',
      'input billing-table is ""; expected a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -): a real run needs the billing table for its ledger (a dry run may go without)',
      'input sns-topic-arn is "billing-topic"; expected an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:billing-alerts',
    ]);
  });

  it('checks the table name and reads booleans as the cost check does', () => {
    expect(() => parseBillingInputs(reader({ 'billing-table': 'a b' }), now)).toThrow(
      'input billing-table is "a b"; expected a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)',
    );
    expect(() => parseBillingInputs(reader({ mode: 'monthly', 'billing-table': 'billing' }), now)).toThrow(
      'input mode is "monthly"; expected one of scheduled, true-up, fixed-amount, reconcile',
    );
    expect(parseBillingInputs(reader({ 'dry-run': 'yes' }), now).request.dryRun).toBe(true);
  });

  it('accepts a fixed charge with its amount in micro-units', () => {
    const inputs = parseBillingInputs(
      reader({ mode: 'fixed-amount', customer: 'acme', amount: '250.005', description: 'Support', 'billing-table': 'billing' }),
      now,
    );
    expect(inputs.request).toMatchObject({ customerId: 'acme', fixedCharge: { amount: 250_005_000, description: 'Support' } });
  });

  it('refuses an amount outside fixed-amount mode', () => {
    expect(() => parseBillingInputs(reader({ amount: '10', 'billing-table': 'billing' }), now)).toThrow(
      'input amount is "10"; expected nothing: it applies only to mode fixed-amount (mode is scheduled)',
    );
  });
});
