import { invoiceByCustomerKey, invoiceKey } from '../store/keys.js';
import { INVOICE_STATUS_RANK, type InvoiceRecord, type InvoiceStatus } from '../store/records.js';
import { ledgerEntryRef } from './plan.js';
import type { IssuedInvoice, LedgerEntry } from './types.js';

const STRIPE_STATUSES: ReadonlySet<string> = new Set(['draft', 'open', 'paid', 'uncollectible', 'void']);

/** The invoice record in the shape the webhook handler also updates, with the status Stripe reported. */
export function invoiceRecord(entry: LedgerEntry, invoice: IssuedInvoice, at: Date): InvoiceRecord {
  const status = (STRIPE_STATUSES.has(invoice.status) ? invoice.status : 'open') as InvoiceStatus;
  const now = at.toISOString();
  return {
    pk: invoiceKey(invoice.invoiceId).pk,
    sk: 'INVOICE',
    recordType: 'invoice',
    invoiceId: invoice.invoiceId,
    stripeCustomerId: entry.stripeCustomerId,
    customerId: entry.customerId,
    period: entry.period,
    amountDue: invoice.amountDue,
    currency: invoice.currency,
    status,
    statusRank: INVOICE_STATUS_RANK[status],
    ...(invoice.hostedInvoiceUrl ? { hostedInvoiceUrl: invoice.hostedInvoiceUrl } : {}),
    ledgerEntry: ledgerEntryRef(entry),
    createdAt: now,
    updatedAt: now,
    ...invoiceByCustomerKey(entry.customerId, entry.period, invoice.invoiceId),
  };
}
