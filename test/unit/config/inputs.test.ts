import { describe, expect, it } from 'vitest';
import { parseCostCheckInputs } from '../../../src/costCheck/inputs.js';
import type { ConfigError } from '../../../src/errors.js';

const now = new Date('2026-11-15T06:00:00Z');
const reader = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';

describe('cost-check inputs', () => {
  it('uses the documented defaults', () => {
    expect(parseCostCheckInputs(reader({}), now)).toEqual({
      configPath: 'billing.config.yaml',
      period: { id: '2026-11', start: '2026-11-01', endExclusive: '2026-12-01', daysInMonth: 30 },
      threshold: 0,
      metric: 'UnblendedCost',
      billingTable: '',
      snsTopicArn: '',
      reportPath: 'cost-report.json',
      dryRun: false,
      awsForecast: false,
    });
  });

  it('lists every bad input with its value and the accepted form', () => {
    const inputs = reader({ period: 'last', 'budget-threshold': 'ten', metric: 'UsageQuantity', 'dry-run': 'maybe', 'sns-topic-arn': 'alerts' });
    const error = (() => {
      try {
        parseCostCheckInputs(inputs, now);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.problems).toEqual([
      'input period "last" is not a billing period: use "current", "previous" or a month as YYYY-MM (e.g. 2026-11)',
      'input budget-threshold is "ten"; expected a number from 0 to 1000000000, such as 800',
      'input metric is "UsageQuantity"; expected one of UnblendedCost, BlendedCost, AmortizedCost, NetUnblendedCost, NetAmortizedCost',
      'input sns-topic-arn is "alerts"; expected an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:billing-alerts',
      'input dry-run is "maybe"; expected true or false',
      'input billing-table is ""; expected a table name whenever sns-topic-arn is set, so that each alert is sent once per period',
    ]);
  });
});
