import { describe, expect, it } from 'vitest';
import { runBilling, type BillingOutcome } from '../../src/billing/run.js';
import type { LedgerPort } from '../../src/billing/types.js';
import { parsePeriod } from '../../src/period.js';
import { stripeBilling } from '../../src/stripe/billing.js';
import { dynamoLedger } from '../../src/store/ledger.js';
import { acme, acmeOverageEntry, billingConfig, costSnapshot, days, initech, scanTable, useBillingServices, type CustomerSpend } from '../support/billing.js';

const TABLE = 'billing';
const services = useBillingServices(TABLE, [acme.stripeCustomerId, initech.stripeCustomerId]);
const config = billingConfig([acme, initech], { invoiceServiceLines: 3 });

/** acme: 10 days of 13.37 = 133.70 cost, 147.07 with its 10 % markup, 47.07 over its allowance of 100. */
const SERVICES: ReadonlyArray<readonly [string, string]> = [
  ['Amazon Elastic Compute Cloud - Compute', '61.23'],
  ['Amazon Simple Storage Service', '27.45'],
  ['Amazon Relational Database Service', '19.02'],
  ['AWS Lambda', '11.11'],
  ['AmazonCloudWatch', '8.89'],
  ['Amazon DynamoDB', '6.00'],
];
const acmeSpend: CustomerSpend = { id: 'acme', daily: days(10, '13.37'), services: SERVICES };

/** 4707 cents shared 61.23 : 27.45 : 19.02 : 26.00 (exactly 2155.64, 966.40, 669.61, 915.35). */
const EXPECTED_LINES = [
  { description: 'Amazon Elastic Compute Cloud - Compute', amount: 2156 },
  { description: 'Amazon Simple Storage Service', amount: 966 },
  { description: 'Amazon Relational Database Service', amount: 670 },
  { description: 'Other AWS services', amount: 915 },
];

function bill(today: string, spends: readonly CustomerSpend[], ledger: LedgerPort = dynamoLedger(services.dynamo, TABLE)): Promise<BillingOutcome> {
  const now = new Date(`${today}T07:00:00Z`);
  const period = parsePeriod('current', now);
  const stripe = stripeBilling(services.stripe.client(), { livemode: false, requestsPerSecond: Infinity, sleep: async () => undefined });
  return runBilling({ loadCosts: async () => costSnapshot(config, period.id, today, spends), ledger, stripe }, config, {
    mode: 'scheduled',
    period,
    now,
    dryRun: false,
  });
}

const invoicesOf = (stripeCustomerId: string) => [...services.stripe.state.invoices.values()].filter((invoice) => invoice.customer === stripeCustomerId);
const linesOf = (invoiceId: unknown) =>
  [...services.stripe.state.invoiceItems.values()]
    .filter((item) => item.invoice === invoiceId)
    .map((item) => ({ description: item.description, amount: item.amount }));
const itemKeys = () =>
  services.stripe.requests.entries
    .filter((entry) => entry.route === 'POST /v1/invoiceitems' && entry.status === 200 && !entry.replayed)
    .map((entry) => entry.idempotencyKey);

describe('itemized invoices', () => {
  it('bills the overage as lines by AWS service that add up to the amount billed to the cent, with the figures behind it', async () => {
    const outcome = await bill('2026-11-11', [acmeSpend]);
    expect(outcome.invoices.map((invoice) => invoice.amountMinor)).toEqual([4707]);
    const [invoice] = invoicesOf(acme.stripeCustomerId);
    expect(invoice).toMatchObject({ status: 'open', amount_due: 4707, emails_sent: 1 });
    const lines = linesOf(invoice?.id);
    expect(lines).toEqual(EXPECTED_LINES);
    expect(lines.reduce((total, line) => total + Number(line.amount), 0)).toBe(invoice?.amount_due);
    expect(invoice?.custom_fields).toEqual([
      { name: 'Period', value: 'November 2026, to 2026-11-11' },
      { name: 'Monthly allowance', value: '$100.00' },
      { name: 'AWS cost with markup', value: '$147.07 (AWS cost $133.70 + 10% markup)' },
      { name: 'Billed earlier this period', value: '$0.00' },
    ]);
    expect(itemKeys()).toEqual([1, 2, 3, 4].map((n) => `acme/2026-11/overage-2026-11-11/item-${n}`));
  });

  it('bills a later increase with its own lines, adding up to that increase and to the period overage', async () => {
    await bill('2026-11-11', [acmeSpend]);
    // One more day of 20.00, all EC2: 153.70 cost, 169.07 with markup, 69.07 overage; 47.07 billed before.
    const next = await bill('2026-11-12', [
      { id: 'acme', daily: [...days(10, '13.37'), '20'], services: [['Amazon Elastic Compute Cloud - Compute', '81.23'], ...SERVICES.slice(1)] },
    ]);
    expect(next.invoices.map((invoice) => invoice.amountMinor)).toEqual([2200]);
    const second = invoicesOf(acme.stripeCustomerId).find((invoice) => invoice.amount_due === 2200);
    const lines = linesOf(second?.id);
    expect(lines.reduce((total, line) => total + Number(line.amount), 0)).toBe(2200);
    expect(lines.map((line) => line.description)).toEqual(EXPECTED_LINES.map((line) => line.description));
    expect(second?.custom_fields).toContainEqual({ name: 'Billed earlier this period', value: '$47.07' });
  });

  it('resumes a crash between two lines with identical lines under the same idempotency keys, whatever the costs are by then', async () => {
    services.stripe.inject({ kind: 500, route: 'POST /v1/invoiceitems', skip: 2, count: 6 });
    const crashed = await bill('2026-11-11', [acmeSpend]);
    expect(crashed.failures[0]?.message).toContain('line 3 of 4');
    const [draft] = invoicesOf(acme.stripeCustomerId);
    expect(draft?.status).toBe('draft');
    expect(linesOf(draft?.id)).toEqual(EXPECTED_LINES.slice(0, 2));

    // A day later: Stripe has forgotten the keys, and the cost report has moved on (another breakdown, more cost).
    services.stripe.forgetIdempotencyKeys();
    const resumed = await bill('2026-11-12', [{ id: 'acme', daily: [...days(10, '13.37'), '0.5'], services: [['AWS Lambda', '134.20']] }]);
    expect(resumed.failures).toEqual([]);
    expect(resumed.invoices.find((invoice) => invoice.entryId === 'overage-2026-11-11')).toMatchObject({ resumed: true, amountMinor: 4707 });
    const [invoice] = invoicesOf(acme.stripeCustomerId);
    expect(invoice).toMatchObject({ id: draft?.id, status: 'open', amount_due: 4707, emails_sent: 1 });
    expect(linesOf(invoice?.id)).toEqual(EXPECTED_LINES);
    expect(itemKeys().filter((key) => key?.includes('overage-2026-11-11'))).toEqual([1, 2, 3, 4].map((n) => `acme/2026-11/overage-2026-11-11/item-${n}`));

    const entry = (await scanTable(services.dynamo, TABLE)).find((item) => item.entryId === 'overage-2026-11-11');
    expect(entry).toMatchObject({ status: 'completed', lines: EXPECTED_LINES.map(({ description, amount }) => ({ description, amountMinor: amount })) });
  });

  it('creates one invoice with one set of lines when two runs bill at the same time', async () => {
    const outcomes = await Promise.all([bill('2026-11-11', [acmeSpend]), bill('2026-11-11', [acmeSpend])]);
    expect(outcomes.flatMap((outcome) => outcome.invoices).map((invoice) => invoice.amountMinor)).toEqual([4707]);
    const [invoice, ...others] = invoicesOf(acme.stripeCustomerId);
    expect(others).toEqual([]);
    expect(linesOf(invoice?.id)).toEqual(EXPECTED_LINES);
  });

  it('resumes an entry reserved before invoices were itemized as one item under its old key', async () => {
    const ledger = dynamoLedger(services.dynamo, TABLE);
    const legacy = { ...acmeOverageEntry, amountMinor: 4707, entryId: 'overage-2026-11-11' };
    expect(await ledger.reserve(legacy, 0)).toMatchObject({ reserved: true });
    const resumed = await bill('2026-11-11', [acmeSpend]);
    expect(resumed.invoices).toMatchObject([{ entryId: 'overage-2026-11-11', resumed: true, amountMinor: 4707 }]);
    const [invoice] = invoicesOf(acme.stripeCustomerId);
    expect(linesOf(invoice?.id)).toEqual([{ description: acmeOverageEntry.description, amount: 4707 }]);
    expect(itemKeys()).toEqual(['acme/2026-11/overage-2026-11-11/item']);
  });

  it('leaves meter mode as it is: one meter event per day, no invoice lines', async () => {
    // initech: allowance 20, markup 5 %, metered: 21.00 cost -> 22.05 -> 2.05 over on the 2nd day.
    const outcome = await bill('2026-11-03', [{ id: 'initech', daily: days(2, '10.5'), services: SERVICES }]);
    expect(outcome.meterEvents).toBe(1);
    expect(services.stripe.state.invoiceItems.size).toBe(0);
    const entries = (await scanTable(services.dynamo, TABLE)).filter((item) => item.recordType === 'ledger');
    expect(entries.map((item) => [item.entryId, item.lines])).toEqual([['meter-2026-11-02', undefined]]);
  });
});
