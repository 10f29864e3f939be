import { invoiceByCustomerKey, invoiceKey } from '../records/keys.js';
import { INVOICE_STATUS_RANK, type InvoiceRecord, type InvoiceStatus } from '../records/schema.js';
import { ledgerEntryRef } from './plan.js';
import type { IssuedInvoice, LedgerEntry } from './types.js';

/**
 * The invoice record in the shape the webhook handler also updates. The webhook owns status changes: billing starts
 * a new record at draft or open, never further (a `paid` reported at once would hide the webhook's change to paid,
 * and with it the payment-succeeded notice).
 */
export function invoiceRecord(entry: LedgerEntry, invoice: IssuedInvoice, at: Date): InvoiceRecord {
  const reported = Object.hasOwn(INVOICE_STATUS_RANK, invoice.status) ? (invoice.status as InvoiceStatus) : 'open';
  const status: InvoiceStatus = INVOICE_STATUS_RANK[reported] <= INVOICE_STATUS_RANK.open ? reported : 'open';
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
