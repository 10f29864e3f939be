import { describe, expect, it } from 'vitest';
import { planBilling } from '../../../src/billing/plan.js';
import type { BillingOutcome } from '../../../src/billing/run.js';
import { billingOutputs, minorToDecimal, renderBillingSummary } from '../../../src/billing/summary.js';
import { parsePeriod } from '../../../src/period.js';
import { acme, billingConfig, costSnapshot, days, globex, initech } from '../../support/billing.js';

const now = new Date('2026-11-10T07:00:00Z');
const config = billingConfig([acme, globex, initech]);
const snapshot = costSnapshot(config, '2026-11', '2026-11-10', [
  {
    id: 'acme',
    daily: days(9, '20'),
    services: [
      ['Amazon EC2', '120'],
      ['Amazon S3', '60'],
    ],
  },
  { id: 'globex', daily: days(9, '1') },
  { id: 'initech', daily: days(9, '5') },
]);
const plan = planBilling(config.customers, snapshot, new Map(), {
  mode: 'scheduled',
  period: parsePeriod('2026-11', now),
  now,
  billing: config.billing,
  windowStart: snapshot.window.start,
});
const outcome: BillingOutcome = {
  plan,
  dryRun: false,
  estimated: true,
  notice: undefined,
  invoices: [
    {
      customerId: 'acme',
      name: 'Acme Corp',
      entryId: 'overage-2026-11-10',
      invoiceId: 'in_T00000001',
      amountMinor: 9800,
      currency: 'usd',
      status: 'open',
      dashboardUrl: 'https://dashboard.stripe.com/test/invoices/in_T00000001',
      resumed: false,
    },
  ],
  credits: [],
  meterEvents: 6,
  heldElsewhere: [],
  failures: [
    {
      customerId: 'globex',
      name: 'Globex | EU',
      message: "Stripe refused to create an invoice for cus_globex01: No such customer: 'cus_globex01'. Check the customer's stripeCustomerId",
    },
  ],
};

describe('renderBillingSummary', () => {
  it('renders the plan, the invoices with their dashboard links and the failures (golden file)', async () => {
    await expect(renderBillingSummary(outcome)).toMatchFileSnapshot('../../fixtures/billing/summary.md');
  });

  it('says which meter entries were settled from what Stripe held, when a blocked entry can be retried, and which were released', () => {
    const summary = renderBillingSummary({
      ...outcome,
      meterResolutions: [
        { customerId: 'initech', entryId: 'meter-2026-11-02', delivery: 'duplicate' },
        { customerId: 'initech', entryId: 'meter-2026-11-03', delivery: 'sent-after-summary' },
      ],
      failures: [
        {
          customerId: 'initech',
          name: 'Initech',
          entryId: 'meter-2026-11-04',
          message: 'Stripe replays a stored error (500)',
          retryAfter: '2026-11-11T07:00:00.000Z',
        },
        { customerId: 'globex', name: 'Globex', entryId: 'overage-2026-11-09', message: 'No such customer', released: true },
      ],
    });
    expect(summary).toContain(
      '- `initech` `meter-2026-11-02`: Stripe already held its identifier (an earlier run delivered it): completed without a second event',
    );
    expect(summary).toContain("- `initech` `meter-2026-11-03`: past Stripe's dedupe window; the meter event summary held nothing: sent");
    expect(summary).toContain(
      '- **Initech** (`initech`, entry `meter-2026-11-04`): Stripe replays a stored error (500). Blocked: the entry stays pending and can be retried from 2026-11-11T07:00:00.000Z.',
    );
    expect(summary).toContain(
      'entry `overage-2026-11-09`): No such customer. The entry was released: nothing reached Stripe, and the next run plans it again.',
    );
  });

  it('says a dry run touched nothing', () => {
    expect(renderBillingSummary({ ...outcome, dryRun: true, invoices: [], failures: [] })).toContain('Dry run: this is the plan. Nothing was sent to Stripe');
  });
});

describe('billingOutputs', () => {
  it('gives money as decimal strings and the plan per customer', () => {
    const outputs = billingOutputs(outcome, 'usd');
    expect(JSON.parse(outputs.invoices ?? '')).toEqual([
      {
        id: 'in_T00000001',
        customer: 'acme',
        amount: '98.00',
        currency: 'usd',
        status: 'open',
        dashboardUrl: 'https://dashboard.stripe.com/test/invoices/in_T00000001',
      },
    ]);
    expect(outputs['billed-total']).toBe('98.00');
    const planOutput = JSON.parse(outputs.plan ?? '') as { customers: Array<Record<string, unknown>> };
    expect(planOutput.customers[0]).toMatchObject({
      customer: 'acme',
      cost: '180.000000',
      costWithMarkup: '198.000000',
      allowance: '100.000000',
      overage: '98.00',
      alreadyBilled: '0.00',
      amountNow: '98.00',
    });
    expect(planOutput.customers[2]).toMatchObject({ customer: 'initech', mode: 'meter', amountNow: '27.25' });
  });

  it("writes minor units in the currency's own decimals", () => {
    expect([minorToDecimal(1234, 'usd'), minorToDecimal(-5, 'usd'), minorToDecimal(1234, 'jpy'), minorToDecimal(0, 'eur')]).toEqual([
      '12.34',
      '-0.05',
      '1234',
      '0.00',
    ]);
  });
});
