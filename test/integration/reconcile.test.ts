import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { runBilling } from '../../src/billing/run.js';
import { parsePeriod } from '../../src/period.js';
import { reconcile, type Drift, type ReconcileResult } from '../../src/reconcile/reconcile.js';
import { driftNotification, moneyLosingDrifts, renderReconcileSummary } from '../../src/reconcile/report.js';
import { invoiceKey } from '../../src/records/keys.js';
import { dynamoLedger } from '../../src/store/ledger.js';
import { dynamoReconcileStore } from '../../src/store/reconcileStore.js';
import { stripeBilling } from '../../src/stripe/billing.js';
import { stripeInvoiceReader } from '../../src/stripe/invoiceReader.js';
import { acme, billingConfig, costSnapshot, days, globex, useBillingServices } from '../support/billing.js';

const TABLE = 'billing';
const services = useBillingServices(TABLE, [acme.stripeCustomerId, globex.stripeCustomerId]);
const config = billingConfig([acme, globex]);
const noWait = async () => undefined;

/** A scheduled billing run on `today` (07:00 UTC) with the real Stripe adapter and ledger; Stripe's clock is set to it. */
async function bill(today: string, spends: Array<{ id: string; daily: string[] }>) {
  const now = new Date(`${today}T07:00:00Z`);
  services.stripe.setNow(now);
  const period = parsePeriod('current', now);
  const outcome = await runBilling(
    {
      loadCosts: async () => costSnapshot(config, period.id, today, spends),
      ledger: dynamoLedger(services.dynamo, TABLE),
      stripe: stripeBilling(services.stripe.client(), { livemode: false, requestsPerSecond: Infinity, sleep: noWait }),
    },
    config,
    { mode: 'scheduled', period, now, dryRun: false },
  );
  expect(outcome.failures).toEqual([]);
  return outcome.invoices;
}

/** October and November billed for both customers: four invoices, all recorded as open. */
async function billTwoMonths() {
  const october = await bill('2026-10-20', [
    { id: 'acme', daily: days(19, '10') },
    { id: 'globex', daily: days(19, '5') },
  ]);
  const november = await bill('2026-11-20', [
    { id: 'acme', daily: days(19, '10') },
    { id: 'globex', daily: days(19, '5') },
  ]);
  expect(october).toHaveLength(2);
  expect(november).toHaveLength(2);
  const byCustomer = (list: typeof october, id: string) => list.find((i) => i.customerId === id)!.invoiceId;
  return {
    acmeOctober: byCustomer(october, 'acme'),
    globexOctober: byCustomer(october, 'globex'),
    acmeNovember: byCustomer(november, 'acme'),
    globexNovember: byCustomer(november, 'globex'),
  };
}

function run(dryRun = false): Promise<ReconcileResult> {
  const now = new Date('2026-11-21T08:00:00Z');
  services.stripe.setNow(now);
  return reconcile(
    {
      stripe: stripeInvoiceReader(services.stripe.client(), { livemode: false, requestsPerSecond: Infinity, sleep: noWait }),
      store: dynamoReconcileStore(services.dynamo, TABLE),
    },
    config,
    { period: parsePeriod('current', now), now, dryRun },
  );
}

/** Stripe-side edits, as someone in the dashboard (or a missed webhook) would leave them. */
const stripeInvoice = (id: string) => services.stripe.state.invoices.get(id)!;
const epoch = (iso: string) => Date.parse(iso) / 1000;
const summary = (drifts: readonly Drift[]) => drifts.map((d) => `${d.kind} ${d.customerId} ${d.period} ${d.invoiceId} ${d.losesMoney ? 'loses-money' : 'ok'}`);
const recordStatus = async (invoiceId: string) =>
  (await services.dynamo.send(new GetCommand({ TableName: TABLE, Key: invoiceKey(invoiceId), ConsistentRead: true }))).Item?.status;

describe('reconciliation with Stripe (local Stripe server through the real client, ledger in moto)', () => {
  it('reports no drift when Stripe, the ledger and the invoice records agree, with one list request', async () => {
    await billTwoMonths();
    services.stripe.requests.byRoute.clear();
    const result = await run();
    expect(result).toMatchObject({ periods: ['2026-10', '2026-11'], invoicesChecked: 4, entriesChecked: 4, drifts: [] });
    expect(services.stripe.requests.count('GET /v1/invoices')).toBe(1);
    expect(services.stripe.requests.count('GET /v1/invoices/:id')).toBe(0);
    expect(result.stripeRequests).toBe(1);
    expect(renderReconcileSummary(result)).toContain('No drift');
  });

  it('finds each planted drift once, says what to do, and flags only the ones that lose money', async () => {
    const ids = await billTwoMonths();
    // A Stripe invoice of ours that the ledger does not know (a run that died before... or a copy made by hand).
    const stripe = services.stripe.client();
    const stray = await stripe.invoices.create({
      customer: acme.stripeCustomerId,
      collection_method: 'send_invoice',
      days_until_due: 30,
      metadata: { customerId: 'acme', period: '2026-11', ledgerEntry: 'acme/2026-11/overage-2026-11-19' },
    });
    await stripe.invoiceItems.create({ customer: acme.stripeCustomerId, invoice: stray.id, amount: 4200, currency: 'usd' });
    await stripe.invoices.finalizeInvoice(stray.id);
    // Paid in Stripe, the webhook missed: the record still says open.
    Object.assign(stripeInvoice(ids.acmeNovember), { status: 'paid', amount_paid: stripeInvoice(ids.acmeNovember).amount_due, amount_remaining: 0 });
    stripeInvoice(ids.acmeNovember).status_transitions = { finalized_at: epoch('2026-11-20T07:00:00Z'), paid_at: epoch('2026-11-20T09:00:00Z') };
    // Voided by hand in October (the true-up bills it again) ...
    Object.assign(stripeInvoice(ids.globexOctober), { status: 'void' });
    // ... deleted in November (nothing bills it again) ...
    services.stripe.state.invoices.delete(ids.globexNovember);
    // ... and edited down in the dashboard.
    Object.assign(stripeInvoice(ids.acmeOctober), { total: Number(stripeInvoice(ids.acmeOctober).total) - 1000 });

    const result = await run();
    expect(summary(result.drifts)).toEqual([
      `amount-mismatch acme 2026-10 ${ids.acmeOctober} loses-money`,
      `status-behind acme 2026-11 ${ids.acmeNovember} ok`,
      `unrecorded-invoice acme 2026-11 ${stray.id} ok`,
      `invoice-not-billed globex 2026-10 ${ids.globexOctober} ok`,
      `status-behind globex 2026-10 ${ids.globexOctober} ok`,
      `invoice-not-billed globex 2026-11 ${ids.globexNovember} loses-money`,
    ]);
    expect(moneyLosingDrifts(result).map((d) => d.invoiceId)).toEqual([ids.acmeOctober, ids.globexNovember]);
    expect(result.drifts.find((d) => d.kind === 'amount-mismatch')).toMatchObject({ ledgerMinor: 10900, stripeMinor: 9900, entryId: 'overage-2026-10-20' });
    expect(result.drifts.find((d) => d.invoiceId === ids.globexNovember)).toMatchObject({
      stripeStatus: 'deleted',
      action: expect.stringContaining('mode fixed-amount'),
    });
    expect(result.drifts.find((d) => d.kind === 'invoice-not-billed' && d.period === '2026-10')?.action).toContain(
      'The true-up of 2026-10 bills its amount again',
    );
    // Only the deleted invoice needed a request of its own.
    expect(services.stripe.requests.count('GET /v1/invoices/:id')).toBe(1);
    // Repaired forward, as the webhook would have: paid, and void so that the true-up bills the voided amount again.
    expect(result.drifts.filter((d) => d.kind === 'status-behind').map((d) => d.repaired)).toEqual([true, true]);
    expect(await recordStatus(ids.acmeNovember)).toBe('paid');
    expect(await recordStatus(ids.globexOctober)).toBe('void');
    expect(await recordStatus(stray.id)).toBeUndefined();

    const notice = driftNotification(result.drifts[0]!);
    expect(notice.attributes).toEqual({
      type: 'billing-drift',
      customer: 'acme',
      period: '2026-10',
      drift: 'amount-mismatch',
      invoice: ids.acmeOctober,
      losesMoney: 'true',
    });
    const markdown = renderReconcileSummary(result);
    expect(markdown).toContain('6 drifts, 2 losing money.');
    expect(markdown).toContain(`| \`acme\` | 2026-10 | Amount differs | \`${ids.acmeOctober}\` | $109.00 | $99.00 (open) | **yes** |`);

    // A repaired status is not repaired again; the other drifts stand until someone acts.
    const again = await run();
    expect(summary(again.drifts)).toEqual(summary(result.drifts.filter((d) => d.kind !== 'status-behind')));
  });

  it("pages through every invoice of the account, 100 a page, and keeps only this project's", async () => {
    await billTwoMonths();
    // 150 invoices made outside this project (no metadata), created in November.
    for (let i = 0; i < 150; i++) {
      const id = `in_other${String(i).padStart(4, '0')}`;
      services.stripe.state.invoices.set(id, { ...stripeInvoice([...services.stripe.state.invoices.keys()][0]!), id, metadata: {} });
    }
    services.stripe.requests.byRoute.clear();
    const result = await run();
    expect(result).toMatchObject({ invoicesChecked: 4, drifts: [], stripeRequests: 2 });
    expect(services.stripe.requests.count('GET /v1/invoices')).toBe(2);
  });

  it('repairs nothing in a dry run and never moves a record backwards', async () => {
    const ids = await billTwoMonths();
    Object.assign(stripeInvoice(ids.acmeNovember), { status: 'paid' });
    const dry = await run(true);
    expect(dry.drifts.map((d) => `${d.kind} ${String(d.repaired)}`)).toEqual(['status-behind false']);
    expect(await recordStatus(ids.acmeNovember)).toBe('open');
    // The record is further along than Stripe (an overdue invoice is open in Stripe): nothing to repair.
    await dynamoReconcileStore(services.dynamo, TABLE).applyInvoiceUpdate(
      {
        invoiceId: ids.acmeOctober,
        stripeCustomerId: acme.stripeCustomerId,
        status: 'overdue',
        statusRank: 3,
        amountDue: 10900,
        amountPaid: 0,
        currency: 'usd',
        eventId: 'evt_overdue',
        eventType: 'invoice.overdue',
        eventCreated: epoch('2026-11-19T00:00:00Z'),
      },
      Date.now(),
    );
    const real = await run();
    expect(real.drifts.map((d) => `${d.kind} ${d.invoiceId} ${String(d.repaired)}`)).toEqual([`status-behind ${ids.acmeNovember} true`]);
    expect(await recordStatus(ids.acmeOctober)).toBe('overdue');
  });
});
