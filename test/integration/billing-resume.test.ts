import { describe, expect, it } from 'vitest';
import { renderBillingSummary } from '../../src/billing/summary.js';
import type { LedgerPort } from '../../src/billing/types.js';
import { dynamoLedger } from '../../src/store/ledger.js';
import { acme, billingConfig, billingRun, days, initech, ledgerItems, useBillingServices } from '../support/billing.js';

/** Resumed entries against what Stripe really answers: duplicates, stored errors, keys in flight, refusals. */
const TABLE = 'billing';
const services = useBillingServices(
  TABLE,
  [acme, initech].map((customer) => customer.stripeCustomerId),
);
const bill = billingRun(services, TABLE);
const DAY = 86_400;
/** Every attempt of a call dropped: 6 attempts, each retried once by stripe-node on a closed connection. */
const UNREACHABLE = 12;

/** The ledger, except that completing an entry fails: the runner was lost right after Stripe's answer. */
const lostRunner = (): LedgerPort => ({ ...dynamoLedger(services.dynamo, TABLE), complete: () => Promise.reject(new Error('runner lost')) });
const meterEvents = () => [...services.stripe.state.meterEvents.values()].map((event) => [event.identifier, (event.payload as Record<string, string>).value]);
const statuses = async () => (await ledgerItems(services.dynamo, TABLE)).entries.map((entry) => [entry.entryId, entry.status]);

describe('meter entries resumed after a crash', () => {
  const config = billingConfig([initech]);
  const spendTo = (today: string) => [{ id: 'initech', daily: days(Number(today.slice(8)) - 1, '10') }];

  function startOn(now: string) {
    services.stripe.setNow(new Date(now));
    services.stripe.addMeter('aws_usage');
  }

  it("completes the entry when Stripe answers that it already holds the identifier, and sends the customer's later days", async () => {
    startOn('2026-11-03T07:00:00Z');
    await bill({ config, today: '2026-11-03', spends: spendTo('2026-11-03'), ledger: lostRunner() });
    expect(await statuses()).toEqual([['meter-2026-11-02', 'pending']]);

    // The next daily run: Stripe no longer has the idempotency key but still deduplicates the identifier.
    services.stripe.forgetIdempotencyKeys();
    services.stripe.advance(23 * 3_600);
    const next = await bill({ config, today: '2026-11-04', spends: spendTo('2026-11-04'), extra: { now: new Date('2026-11-04T06:00:00Z') } });
    expect(next.failures).toEqual([]);
    expect(services.stripe.requests.entries.filter((entry) => entry.route === 'POST /v1/billing/meter_events').map((entry) => entry.status)).toEqual([
      200, 400, 200,
    ]);
    expect(next.meterResolutions).toEqual([{ customerId: 'initech', entryId: 'meter-2026-11-02', delivery: 'duplicate' }]);
    expect(renderBillingSummary(next)).toContain('`meter-2026-11-02`: Stripe already held its identifier (an earlier run delivered it)');
    expect(meterEvents()).toEqual([
      ['initech:2026-11:meter-2026-11-02', '100'],
      ['initech:2026-11:meter-2026-11-03', '1050'],
    ]);
    expect(await statuses()).toEqual([
      ['meter-2026-11-02', 'completed'],
      ['meter-2026-11-03', 'completed'],
    ]);
  });

  it("past Stripe's dedupe window, completes from the meter event summary instead of sending a second event", async () => {
    startOn('2026-11-03T07:00:00Z');
    await bill({ config, today: '2026-11-03', spends: spendTo('2026-11-03'), ledger: lostRunner() });
    services.stripe.advance(DAY);
    const next = await bill({ config, today: '2026-11-04', spends: spendTo('2026-11-04') });
    expect(next.meterResolutions).toEqual([{ customerId: 'initech', entryId: 'meter-2026-11-02', delivery: 'in-summary' }]);
    expect(renderBillingSummary(next)).toContain("past Stripe's dedupe window; the meter event summary holds it");
    expect(services.stripe.requests.count('GET /v1/billing/meters/:id/event_summaries')).toBe(1);
    expect(meterEvents().map(([identifier]) => identifier)).toEqual(['initech:2026-11:meter-2026-11-02', 'initech:2026-11:meter-2026-11-03']);
  });

  it("past Stripe's dedupe window, sends an event that never reached Stripe once the summary shows nothing", async () => {
    startOn('2026-11-03T07:00:00Z');
    services.stripe.inject({ kind: 'drop', route: 'POST /v1/billing/meter_events', count: UNREACHABLE });
    const crashed = await bill({ config, today: '2026-11-03', spends: spendTo('2026-11-03') });
    expect(crashed.failures).toMatchObject([{ entryId: 'meter-2026-11-02' }]);
    services.stripe.advance(DAY);
    const next = await bill({ config, today: '2026-11-04', spends: spendTo('2026-11-04') });
    expect(next.meterResolutions).toEqual([{ customerId: 'initech', entryId: 'meter-2026-11-02', delivery: 'sent-after-summary' }]);
    expect(meterEvents()).toEqual([
      ['initech:2026-11:meter-2026-11-02', '100'],
      ['initech:2026-11:meter-2026-11-03', '1050'],
    ]);
  });
});

describe('what Stripe says about retrying', () => {
  const config = billingConfig([initech, acme]);
  const spends = (today: string) => {
    const count = Number(today.slice(8)) - 1;
    return [
      { id: 'initech', daily: days(count, '10') },
      { id: 'acme', daily: days(count, '60') },
    ];
  };

  it("reports an entry blocked by a stored 500 with the time it can be retried; the customer's later days and the other customers go on", async () => {
    services.stripe.setNow(new Date('2026-11-03T07:00:00Z'));
    services.stripe.addMeter('aws_usage');
    // Stripe executed the request, then failed: the 500 is stored under the key and replayed for it.
    services.stripe.inject({ kind: 500, route: 'POST /v1/billing/meter_events', afterProcessing: true });
    const first = await bill({ config, today: '2026-11-03', spends: spends('2026-11-03') });
    expect(first.invoices.map((invoice) => invoice.customerId)).toEqual(['acme']);
    expect(first.failures).toMatchObject([{ customerId: 'initech', entryId: 'meter-2026-11-02', retryAfter: '2026-11-04T07:00:00.000Z' }]);
    // The first answer and one replay: no retries against an answer that cannot change.
    expect(services.stripe.requests.count('POST /v1/billing/meter_events')).toBe(2);
    const summary = renderBillingSummary(first);
    expect(summary).toContain('Stripe replays a stored error (500) to send meter event initech:2026-11:meter-2026-11-02');
    expect(summary).toContain('Blocked: the entry stays pending and can be retried from 2026-11-04T07:00:00.000Z.');

    services.stripe.advance(3_600);
    const sameDay = await bill({ config, today: '2026-11-03', spends: spends('2026-11-03') });
    expect(sameDay.failures).toMatchObject([{ entryId: 'meter-2026-11-02', retryAfter: expect.any(String) }]);

    // A late run the same day with a report up to the 3rd: the blocked entry is still replayed (its key is kept for a
    // day), but initech's new day is independent and is sent.
    services.stripe.advance(15 * 3_600);
    const nextDay = await bill({ config, today: '2026-11-04', spends: spends('2026-11-04'), extra: { now: new Date('2026-11-03T23:00:00Z') } });
    expect(nextDay.failures).toMatchObject([{ entryId: 'meter-2026-11-02' }]);
    expect(meterEvents().map(([identifier]) => identifier)).toEqual(['initech:2026-11:meter-2026-11-02', 'initech:2026-11:meter-2026-11-03']);

    // A day after the first attempt Stripe has forgotten the key: the summary shows the event, the entry completes.
    services.stripe.advance(DAY);
    const later = await bill({ config, today: '2026-11-05', spends: spends('2026-11-05') });
    expect(later.failures).toEqual([]);
    expect(later.meterResolutions).toEqual([{ customerId: 'initech', entryId: 'meter-2026-11-02', delivery: 'in-summary' }]);
    expect(meterEvents().filter(([identifier]) => String(identifier).endsWith('meter-2026-11-02'))).toHaveLength(1);
    const entries = (await ledgerItems(services.dynamo, TABLE)).entries;
    expect(entries.every((entry) => entry.status === 'completed')).toBe(true);
  });

  it('lets the true-up wait while an earlier entry of the period is still pending, and settles it once that entry is', async () => {
    const acmeOnly = billingConfig([acme]);
    services.stripe.inject({ kind: 500, route: 'POST /v1/invoices/:id/send', count: 6 });
    await bill({ config: acmeOnly, today: '2026-11-30', spends: [{ id: 'acme', daily: days(29, '10') }] });
    expect(await statuses()).toEqual([['overage-2026-11-30', 'pending']]);

    services.stripe.inject({ kind: 500, route: 'POST /v1/invoices/:id/send', count: 6 });
    const month = [{ id: 'acme', daily: days(30, '10') }];
    const waiting = await bill({ config: acmeOnly, today: '2026-12-03', period: '2026-11', mode: 'true-up', spends: month });
    expect(waiting.failures.map((failure) => [failure.entryId, failure.message])).toEqual([
      ['overage-2026-11-30', expect.stringContaining('Stripe did not answer to send invoice')],
      ['true-up', 'the true-up waits until overage-2026-11-30 is settled; a later run settles it'],
    ]);
    expect(await statuses()).toEqual([['overage-2026-11-30', 'pending']]);

    const settled = await bill({ config: acmeOnly, today: '2026-12-04', period: '2026-11', mode: 'true-up', spends: month });
    expect(settled.failures).toEqual([]);
    expect(settled.invoices.map((invoice) => [invoice.entryId, invoice.amountMinor])).toEqual([
      ['overage-2026-11-30', 21900],
      ['true-up', 1100],
    ]);
  });
});

describe('releasing what never reached Stripe', () => {
  const config = billingConfig([acme]);
  const spends = [{ id: 'acme', daily: days(9, '20') }];

  it('releases a resumed entry that Stripe refuses with nothing created, so that a later run bills it once', async () => {
    services.stripe.inject({ kind: 'drop', route: 'POST /v1/invoices', count: UNREACHABLE });
    await bill({ config, today: '2026-11-10', spends });
    expect(await statuses()).toEqual([['overage-2026-11-10', 'pending']]);

    // The Stripe customer is gone (deleted, or the config points to another account): the invoice cannot be created.
    services.stripe.state.customers.delete(acme.stripeCustomerId);
    const refused = await bill({ config, today: '2026-11-10', spends });
    expect(refused.failures).toMatchObject([{ customerId: 'acme', entryId: 'overage-2026-11-10', released: true }]);
    expect(refused.failures[0]?.message).toContain("No such customer: 'cus_acme0001'");
    expect(renderBillingSummary(refused)).toContain('The entry was released: nothing reached Stripe, and the next run plans it again.');
    const ledger = await ledgerItems(services.dynamo, TABLE);
    expect(ledger.entries).toEqual([]);
    expect(ledger.heads).toMatchObject([{ billedMinor: 0 }]);

    services.stripe.addCustomer(acme.stripeCustomerId);
    const rebilled = await bill({ config, today: '2026-11-11', spends });
    expect(rebilled.invoices.map((invoice) => [invoice.entryId, invoice.amountMinor])).toEqual([['overage-2026-11-11', 9800]]);
    expect(services.stripe.state.invoices.size).toBe(1);
  });

  it('releases a resumed meter entry that Stripe refuses, past the dedupe window with an empty summary', async () => {
    const meterConfig = billingConfig([initech]);
    services.stripe.setNow(new Date('2026-11-03T07:00:00Z'));
    services.stripe.addMeter('aws_usage');
    services.stripe.inject({ kind: 'drop', route: 'POST /v1/billing/meter_events', count: UNREACHABLE });
    await bill({ config: meterConfig, today: '2026-11-03', spends: [{ id: 'initech', daily: days(2, '10') }] });
    services.stripe.state.customers.delete(initech.stripeCustomerId);
    services.stripe.advance(DAY);
    const refused = await bill({ config: meterConfig, today: '2026-11-04', spends: [{ id: 'initech', daily: days(2, '10') }] });
    expect(refused.failures).toMatchObject([{ entryId: 'meter-2026-11-02', released: true }]);
    expect((await ledgerItems(services.dynamo, TABLE)).entries).toEqual([]);
    expect(services.stripe.state.meterEvents.size).toBe(0);
  });
});
