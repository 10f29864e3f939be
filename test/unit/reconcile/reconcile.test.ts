import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../../src/billing/types.js';
import { monthPeriod } from '../../../src/period.js';
import type { ReconcileStore, StripeInvoiceReader, StripeInvoiceView } from '../../../src/reconcile/ports.js';
import { reconcile } from '../../../src/reconcile/reconcile.js';
import { publishDrifts } from '../../../src/reconcile/report.js';
import type { InvoiceUpdate } from '../../../src/webhooks/ports.js';
import { acme, billingConfig } from '../../support/billing.js';

const config = billingConfig([acme]);
const now = new Date('2026-11-05T08:00:00Z');

function entry(entryId: string, kind: LedgerEntry['kind'], invoiceId: string | undefined, period = '2026-10'): LedgerEntry {
  return {
    customerId: 'acme',
    period,
    entryId,
    kind,
    amountMinor: 5000,
    currency: 'usd',
    stripeCustomerId: acme.stripeCustomerId,
    description: entryId,
    status: 'completed',
    reservedAt: '2026-10-20T07:00:00.000Z',
    ...(invoiceId ? { invoiceId } : {}),
  };
}

function invoice(id: string, entryId: string, status: StripeInvoiceView['status'], period = '2026-10'): StripeInvoiceView {
  return {
    id,
    stripeCustomerId: acme.stripeCustomerId,
    status,
    total: 5000,
    amountDue: 5000,
    amountPaid: 0,
    currency: 'usd',
    created: Date.parse('2026-10-20T07:00:00Z') / 1000,
    statusAt: Date.parse('2026-10-21T07:00:00Z') / 1000,
    customerId: 'acme',
    period,
    ledgerEntry: `acme/${period}/${entryId}`,
  };
}

/** In-memory Stripe and billing table; invoice records start as the webhook left them (`records`). */
function fakes(entries: LedgerEntry[], invoices: StripeInvoiceView[], records: Record<string, string>) {
  const updates: InvoiceUpdate[] = [];
  const stripe: StripeInvoiceReader = {
    requests: 0,
    listOurInvoices: async () => invoices,
    getInvoice: async (id) => invoices.find((i) => i.id === id),
  };
  const store: ReconcileStore = {
    readLedger: async (customerId, period) => entries.filter((e) => e.customerId === customerId && e.period === period),
    invoiceStatus: async (id) => records[id] as never,
    applyInvoiceUpdate: async (update) => {
      updates.push(update);
      records[update.invoiceId] = update.status;
      return { applied: true };
    },
  };
  return { deps: { stripe, store }, updates };
}

const run = (deps: ReturnType<typeof fakes>['deps']) => reconcile(deps, config, { period: monthPeriod(2026, 11), now, dryRun: false });

describe('reconciliation rules', () => {
  it('leaves a voided overage invoice to the true-up, and reports it as lost money once the period is closed', async () => {
    const voided = invoice('in_void', 'overage-2026-10-20', 'void');
    const before = fakes([entry('overage-2026-10-20', 'overage', 'in_void')], [voided], { in_void: 'void' });
    expect((await run(before.deps)).drifts.map((d) => `${d.kind} ${d.losesMoney}`)).toEqual(['invoice-not-billed false']);

    const trueUp = { ...entry('true-up', 'true-up', undefined), amountMinor: 0 };
    const settled = fakes([entry('overage-2026-10-20', 'overage', 'in_void'), trueUp], [voided], { in_void: 'void' });
    expect((await run(settled.deps)).drifts).toEqual([]);

    const voidedTrueUp = fakes([{ ...entry('true-up', 'true-up', 'in_tu') }], [invoice('in_tu', 'true-up', 'void')], { in_tu: 'void' });
    expect((await run(voidedTrueUp.deps)).drifts.map((d) => `${d.kind} ${d.losesMoney}`)).toEqual(['invoice-not-billed true']);
  });

  it('reports a voided fixed charge as lost money: nothing bills it again', async () => {
    const { deps } = fakes([entry('fixed-abc', 'fixed', 'in_fixed', '2026-11')], [invoice('in_fixed', 'fixed-abc', 'void', '2026-11')], { in_fixed: 'void' });
    const [drift] = (await run(deps)).drifts;
    expect(drift).toMatchObject({ kind: 'invoice-not-billed', losesMoney: true, action: expect.stringContaining('mode fixed-amount') });
  });

  it("repairs with the webhook's update: deterministic event id, the time Stripe reached the status, amounts from Stripe", async () => {
    const paid = { ...invoice('in_paid', 'overage-2026-10-20', 'paid'), amountPaid: 5000, amountDue: 0 };
    const { deps, updates } = fakes([entry('overage-2026-10-20', 'overage', 'in_paid')], [paid], { in_paid: 'open' });
    await run(deps);
    expect(updates).toEqual([
      expect.objectContaining({
        invoiceId: 'in_paid',
        status: 'paid',
        statusRank: 5,
        eventId: 'reconcile:in_paid:paid',
        eventCreated: paid.statusAt,
        amountPaid: 5000,
      }),
    ]);
    expect((await run(deps)).drifts).toEqual([]);
  });

  it('publishes one billing-drift notice per drift, none in a dry run, and returns the failures', async () => {
    const { deps } = fakes([entry('fixed-abc', 'fixed', 'in_gone', '2026-11')], [], {});
    const result = await run(deps);
    const sent: string[] = [];
    expect(await publishDrifts(result, async (n) => (sent.push(n.attributes.type!), { messageId: 'm' }))).toEqual([]);
    expect(sent).toEqual(['billing-drift']);
    expect(await publishDrifts({ ...result, dryRun: true }, async (n) => (sent.push(n.attributes.type!), { messageId: 'm' }))).toEqual([]);
    expect(sent).toHaveLength(1);
    expect(await publishDrifts(result, () => Promise.reject(new Error('throttled')))).toEqual(['in_gone: throttled']);
  });
});
