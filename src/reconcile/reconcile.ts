import { ledgerEntryRef } from '../billing/plan.js';
import type { LedgerEntry } from '../billing/types.js';
import { mapWithConcurrency } from '../concurrency.js';
import type { BillingConfig } from '../config/load.js';
import { previousPeriod, type BillingPeriod } from '../period.js';
import { INVOICE_STATUS_RANK, type InvoiceStatus } from '../records/schema.js';
import type { InvoiceUpdate } from '../webhooks/ports.js';
import type { ReconcileStore, StripeInvoiceReader, StripeInvoiceView } from './ports.js';

export type DriftKind = 'unrecorded-invoice' | 'invoice-not-billed' | 'status-behind' | 'amount-mismatch';

/** One way in which Stripe and the billing table disagree, with what to do about it. */
export interface Drift {
  readonly kind: DriftKind;
  readonly customerId: string;
  readonly period: string;
  readonly invoiceId: string;
  readonly entryId?: string;
  readonly currency: string;
  /** What the ledger entry billed and what the Stripe invoice holds, in minor units. */
  readonly ledgerMinor?: number;
  readonly stripeMinor?: number;
  readonly recordStatus?: InvoiceStatus;
  readonly stripeStatus: StripeInvoiceView['status'] | 'deleted';
  /** Money that will not be collected unless someone acts: the reconcile step fails on it. */
  readonly losesMoney: boolean;
  /** Status repairs only: true when this run moved the record forward. */
  readonly repaired?: boolean;
  readonly action: string;
}

export interface ReconcileRequest {
  /** The current period; the one before it is reconciled too. */
  readonly period: BillingPeriod;
  readonly now: Date;
  /** Repair nothing (the drifts are still reported). */
  readonly dryRun: boolean;
  /** Ledgers read at the same time. */
  readonly concurrency?: number;
}

export interface ReconcileResult {
  readonly periods: readonly string[];
  readonly dryRun: boolean;
  /** Stripe invoices of this project in the periods, and completed ledger entries with an invoice, that were compared. */
  readonly invoicesChecked: number;
  readonly entriesChecked: number;
  readonly drifts: readonly Drift[];
  readonly stripeRequests: number;
}

/** Ledger entries that are billed by one invoice of their own. */
const INVOICED_KINDS: ReadonlySet<LedgerEntry['kind']> = new Set(['overage', 'true-up', 'fixed']);

/**
 * Compares the ledger and the invoice records of the current and previous periods with Stripe's invoices of this
 * project. Read-only against Stripe; the only write is a record's status moved forward as the webhook would.
 */
export async function reconcile(
  deps: { stripe: StripeInvoiceReader; store: ReconcileStore },
  config: BillingConfig,
  request: ReconcileRequest,
): Promise<ReconcileResult> {
  const periods = [previousPeriod(request.period), request.period];
  const periodIds = new Set(periods.map((p) => p.id));
  const listed = await deps.stripe.listOurInvoices({
    createdFrom: Date.parse(periods[0]!.start) / 1000,
    createdTo: Math.floor(request.now.getTime() / 1000) + 1,
  });
  const invoices = new Map(listed.filter((invoice) => invoice.period !== undefined && periodIds.has(invoice.period)).map((invoice) => [invoice.id, invoice]));

  const ledgers = await mapWithConcurrency(
    config.customers.flatMap((customer) => periods.map((period) => ({ customerId: customer.id, period: period.id }))),
    request.concurrency ?? 8,
    async ({ customerId, period }) => ({ customerId, period, entries: await deps.store.readLedger(customerId, period) }),
  );
  const entriesByRef = new Map(ledgers.flatMap((ledger) => ledger.entries.map((entry) => [ledgerEntryRef(entry), entry] as const)));
  const trueUpDone = new Set(
    ledgers.filter((l) => l.entries.some((e) => e.kind === 'true-up' && e.status === 'completed')).map((l) => `${l.customerId}/${l.period}`),
  );

  const drifts: Drift[] = [];
  const invoiced = ledgers.flatMap((l) => l.entries).filter((e) => e.status === 'completed' && e.invoiceId && INVOICED_KINDS.has(e.kind));
  for (const entry of invoiced) {
    const invoiceId = entry.invoiceId!;
    const invoice = invoices.get(invoiceId) ?? (await deps.stripe.getInvoice(invoiceId));
    if (invoice) invoices.set(invoiceId, invoice);
    const drift = compareEntry(entry, invoiceId, invoice, trueUpDone.has(`${entry.customerId}/${entry.period}`));
    if (drift) drifts.push(drift);
  }
  for (const invoice of invoices.values()) {
    if (invoice.status === 'void' || (invoice.ledgerEntry && entriesByRef.has(invoice.ledgerEntry))) continue;
    drifts.push(unrecorded(invoice));
  }
  for (const invoice of invoices.values()) {
    const known = invoice.ledgerEntry !== undefined && entriesByRef.has(invoice.ledgerEntry);
    const drift = await repairStatus(invoice, known, deps.store, request);
    if (drift) drifts.push(drift);
  }
  return {
    periods: periods.map((p) => p.id),
    dryRun: request.dryRun,
    invoicesChecked: invoices.size,
    entriesChecked: invoiced.length,
    drifts: drifts.sort(byCustomerThenPeriod),
    stripeRequests: deps.stripe.requests,
  };
}

function compareEntry(entry: LedgerEntry, invoiceId: string, invoice: StripeInvoiceView | undefined, trueUpDone: boolean): Drift | undefined {
  const base = {
    customerId: entry.customerId,
    period: entry.period,
    invoiceId,
    entryId: entry.entryId,
    currency: entry.currency,
    ledgerMinor: entry.amountMinor,
  };
  if (!invoice || invoice.status === 'void') {
    // The true-up bills a void overage invoice again; nothing bills again a deleted one, a fixed charge or the true-up itself.
    const rebilledByTrueUp = invoice?.status === 'void' && (entry.kind === 'overage' || entry.kind === 'meter') && !trueUpDone;
    if (invoice?.status === 'void' && trueUpDone && entry.kind !== 'true-up' && entry.kind !== 'fixed') return undefined;
    return {
      ...base,
      kind: 'invoice-not-billed',
      stripeMinor: 0,
      stripeStatus: invoice ? 'void' : 'deleted',
      losesMoney: !rebilledByTrueUp,
      action: rebilledByTrueUp
        ? `The invoice was voided in Stripe. The true-up of ${entry.period} bills its amount again, since its invoice record is void; nothing to do unless the amount should be waived (then credit it after the true-up).`
        : invoice
          ? `The invoice was voided in Stripe and nothing bills it again. If the charge stands, bill it with mode fixed-amount (customer ${entry.customerId}, period ${entry.period}).`
          : `Stripe has no invoice ${invoiceId}: nothing was billed for entry ${entry.entryId}. Check the Stripe dashboard, then bill it with mode fixed-amount (customer ${entry.customerId}, period ${entry.period}).`,
    };
  }
  if (invoice.total === entry.amountMinor) return undefined;
  const short = invoice.total < entry.amountMinor;
  return {
    ...base,
    kind: 'amount-mismatch',
    stripeMinor: invoice.total,
    stripeStatus: invoice.status,
    losesMoney: short,
    action: short
      ? 'The Stripe invoice bills less than the ledger entry (edited in the dashboard?). Bill the difference with mode fixed-amount, or, if the lower amount is right, record why: the true-up counts the ledger amount as billed.'
      : 'The Stripe invoice bills more than the ledger entry (edited in the dashboard?). Credit the difference to the customer in Stripe, or correct the invoice before it is paid.',
  };
}

/** What a drift found from the Stripe side says of the invoice (the metadata may lack customer or period). */
function stripeInvoiceFacts(invoice: StripeInvoiceView) {
  return {
    customerId: invoice.customerId ?? '?',
    period: invoice.period ?? '?',
    invoiceId: invoice.id,
    currency: invoice.currency,
    stripeMinor: invoice.total,
    stripeStatus: invoice.status,
  };
}

function unrecorded(invoice: StripeInvoiceView): Drift {
  return {
    kind: 'unrecorded-invoice',
    ...stripeInvoiceFacts(invoice),
    losesMoney: false,
    action: `Stripe holds this invoice (ledger entry ${invoice.ledgerEntry ?? 'unnamed'}) but the ledger has no such entry, so billing does not count it and may bill the same cost again. If it duplicates an invoice of the ledger, void it in Stripe; if it is the only invoice for that cost, credit the customer for the second bill the ledger will make.`,
  };
}

const STRIPE_STATUS: Record<Exclude<StripeInvoiceView['status'], 'draft'>, InvoiceStatus> = {
  open: 'open',
  paid: 'paid',
  uncollectible: 'uncollectible',
  void: 'void',
};

/** A record behind Stripe (a missed webhook) is moved forward with the webhook handler's own forward-only update. */
async function repairStatus(invoice: StripeInvoiceView, known: boolean, store: ReconcileStore, request: ReconcileRequest): Promise<Drift | undefined> {
  if (invoice.status === 'draft') return undefined;
  const status = STRIPE_STATUS[invoice.status];
  const recordStatus = await store.invoiceStatus(invoice.id);
  // An invoice the ledger does not know and the table has no record of is reported once, as unrecorded.
  if (recordStatus === undefined && !known) return undefined;
  if (recordStatus !== undefined && INVOICE_STATUS_RANK[recordStatus] >= INVOICE_STATUS_RANK[status]) return undefined;
  const repaired = request.dryRun ? false : (await store.applyInvoiceUpdate(statusUpdate(invoice, status), request.now.getTime())).applied;
  return {
    kind: 'status-behind',
    ...stripeInvoiceFacts(invoice),
    ...(recordStatus ? { recordStatus } : {}),
    losesMoney: false,
    repaired,
    action: repaired
      ? `Repaired: the invoice record moved from ${recordStatus ?? 'none'} to ${status}, as the missed webhook would have done. Check the webhook endpoint's failed deliveries in Stripe.`
      : `The invoice record says ${recordStatus ?? 'nothing'} but Stripe says ${status}; a run that is not a dry run moves it forward.`,
  };
}

/** The update the webhook handler would have applied, with a deterministic event id so a repeat is recognised. */
function statusUpdate(invoice: StripeInvoiceView, status: InvoiceStatus): InvoiceUpdate {
  return {
    invoiceId: invoice.id,
    stripeCustomerId: invoice.stripeCustomerId,
    status,
    statusRank: INVOICE_STATUS_RANK[status],
    amountDue: invoice.amountDue,
    amountPaid: invoice.amountPaid,
    currency: invoice.currency,
    ...(invoice.hostedInvoiceUrl ? { hostedInvoiceUrl: invoice.hostedInvoiceUrl } : {}),
    ...(invoice.number ? { invoiceNumber: invoice.number } : {}),
    ...(invoice.customerId ? { customerId: invoice.customerId } : {}),
    ...(invoice.period ? { period: invoice.period } : {}),
    ...(invoice.ledgerEntry ? { ledgerEntry: invoice.ledgerEntry } : {}),
    eventId: `reconcile:${invoice.id}:${status}`,
    eventType: `reconcile.${status}`,
    eventCreated: invoice.statusAt,
  };
}

function byCustomerThenPeriod(a: Drift, b: Drift): number {
  return a.customerId.localeCompare(b.customerId) || a.period.localeCompare(b.period) || a.kind.localeCompare(b.kind) || a.invoiceId.localeCompare(b.invoiceId);
}
