import { formatMoney, fromMinorUnits } from '../money.js';
import { INVOICE_STATUS_RANK, type InvoiceStatus } from '../records/schema.js';
import type { InvoiceEventType, StripeInvoice } from './events.js';
import { notification, type NotificationKind } from './notifications.js';
import type { InvoiceUpdate, InvoiceUpdateResult, Notification } from './ports.js';

/** The status an invoice reaches with each event; `payment_failed` is an open invoice whose last attempt failed. */
export const INVOICE_STATUS_BY_EVENT: Readonly<Record<InvoiceEventType, InvoiceStatus>> = {
  'invoice.finalized': 'open',
  'invoice.paid': 'paid',
  'invoice.payment_succeeded': 'paid',
  'invoice.payment_failed': 'payment_failed',
  'invoice.voided': 'void',
  'invoice.marked_uncollectible': 'uncollectible',
  'invoice.overdue': 'overdue',
};

interface InvoiceAnnouncement {
  readonly kind: NotificationKind;
  readonly amountOf: 'amountPaid' | 'amountDue';
  readonly subject: (invoice: string, amount: string) => string;
}

const ANNOUNCED_STATUS: Partial<Record<InvoiceStatus, InvoiceAnnouncement>> = {
  paid: { kind: 'payment-succeeded', amountOf: 'amountPaid', subject: (invoice, amount) => `Payment succeeded: invoice ${invoice} (${amount})` },
  payment_failed: { kind: 'payment-failed', amountOf: 'amountDue', subject: (invoice, amount) => `Payment failed: invoice ${invoice} (${amount} due)` },
  overdue: { kind: 'invoice-overdue', amountOf: 'amountDue', subject: (invoice, amount) => `Invoice overdue: ${invoice} (${amount} due)` },
};

export function invoiceUpdateFrom(
  event: { readonly id: string; readonly type: InvoiceEventType; readonly created: number },
  invoice: StripeInvoice,
): InvoiceUpdate {
  const status = INVOICE_STATUS_BY_EVENT[event.type];
  const subscriptionId = invoice.parent?.subscription_details?.subscription;
  const { customerId, period, ledgerEntry } = invoice.metadata ?? {};
  return {
    invoiceId: invoice.id,
    stripeCustomerId: invoice.customer,
    status,
    statusRank: INVOICE_STATUS_RANK[status],
    amountDue: invoice.amount_due,
    amountPaid: invoice.amount_paid,
    currency: invoice.currency,
    ...(invoice.hosted_invoice_url ? { hostedInvoiceUrl: invoice.hosted_invoice_url } : {}),
    ...(invoice.number ? { invoiceNumber: invoice.number } : {}),
    ...(subscriptionId ? { subscriptionId } : {}),
    ...(customerId ? { customerId } : {}),
    ...(period ? { period } : {}),
    ...(ledgerEntry ? { ledgerEntry } : {}),
    eventId: event.id,
    eventType: event.type,
    eventCreated: event.created,
  };
}

/** Statuses after which a failed payment attempt is no longer news: the invoice is settled. */
const SETTLED: ReadonlySet<InvoiceStatus> = new Set(['paid', 'void']);

/**
 * Whether an invoice update is news. `invoice.paid` and `invoice.payment_succeeded` both arrive for one payment, so
 * "paid" is announced only on the change to paid. Every failed attempt is announced until the invoice is settled,
 * also when the record is further along (overdue, uncollectible) and keeps its status; a failure never follows a
 * payment. Any other update that was not applied (the record is further along) announces nothing.
 */
export function invoiceNotification(update: InvoiceUpdate, result: InvoiceUpdateResult, livemode: boolean): Notification | undefined {
  const announcement = ANNOUNCED_STATUS[update.status];
  if (!announcement || !isNews(update, result)) return undefined;

  const customerId = customerIdOf(update, result);
  const amount = formatMoney(fromMinorUnits(update[announcement.amountOf], update.currency), update.currency);
  const subject = announcement.subject(update.invoiceNumber ?? update.invoiceId, amount);
  return notification(
    announcement.kind,
    subject,
    {
      eventId: update.eventId,
      eventType: update.eventType,
      livemode,
      stripeCustomerId: update.stripeCustomerId,
      ...(customerId ? { customerId } : {}),
      invoiceId: update.invoiceId,
      ...(update.subscriptionId ? { subscriptionId: update.subscriptionId } : {}),
    },
    {
      status: update.status,
      amountDue: update.amountDue,
      amountPaid: update.amountPaid,
      currency: update.currency,
      ...(update.hostedInvoiceUrl ? { hostedInvoiceUrl: update.hostedInvoiceUrl } : {}),
    },
  );
}

function isNews(update: InvoiceUpdate, result: InvoiceUpdateResult): boolean {
  if (update.status === 'payment_failed') {
    const current = result.applied ? undefined : result.stored?.status;
    return current === undefined || !SETTLED.has(current);
  }
  if (!result.applied) return false;
  const previous = result.previous;
  return !previous || previous.status !== update.status || previous.lastEventId === update.eventId;
}

/** The record's customer id: the one stored before, or for a record this event created, the invoice metadata's. */
function customerIdOf(update: InvoiceUpdate, result: InvoiceUpdateResult): string | undefined {
  return (result.applied ? result.previous?.customerId : result.stored?.customerId) ?? update.customerId;
}
