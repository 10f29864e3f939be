/**
 * The one key scheme of the billing table (pk + sk, GSI `byCustomer` on gsi1pk + gsi1sk). Every record kind
 * lives in one table: a ledger entry and its ledger head are reserved in one transaction, and one role and one
 * set of alarms cover all of it. Nothing else in the project builds these strings.
 */
import { alertIdentity } from '../alerts/dispatch.js';

export const BILLING_TABLE_KEYS = { partition: 'pk', sort: 'sk', ttl: 'expiresAt' } as const;
export const BY_CUSTOMER_INDEX = { name: 'byCustomer', partition: 'gsi1pk', sort: 'gsi1sk' } as const;

/** Alert marker: one per scope (customer id or TOTAL), kind, level and period. */
export function alertKey(period: string, scope: string, kind: 'actual' | 'forecast', level: number) {
  return { pk: alertPeriodKey(period), sk: alertIdentity({ scope, kind, level }) };
}

/** The partition holding every alert marker of a period: one Query reads them all. */
export function alertPeriodKey(period: string): string {
  return `ALERT#${period}`;
}

/** Invoice record, addressed by the Stripe invoice id so the webhook handler can find it from any event. */
export function invoiceKey(invoiceId: string) {
  return { pk: `INVOICE#${invoiceId}`, sk: 'INVOICE' };
}

export function invoiceByCustomerKey(customerId: string, period: string, invoiceId: string) {
  return { gsi1pk: `CUSTOMER#${customerId}`, gsi1sk: `PERIOD#${period}#INVOICE#${invoiceId}` };
}

/** Ledger of what was billed to a customer in a period: one partition, one item per billing step. */
export function ledgerPartition(customerId: string, period: string) {
  return `LEDGER#${customerId}#${period}`;
}

export function ledgerEntryKey(customerId: string, period: string, entryId: string) {
  return { pk: ledgerPartition(customerId, period), sk: `ENTRY#${entryId}` };
}

/** Webhook event seen marker (dedupe of Stripe deliveries). */
export function webhookEventKey(eventId: string) {
  return { pk: `EVENT#${eventId}`, sk: 'EVENT' };
}

/**
 * The subscriptions table has its own, flat key scheme: partition key `subscriptionId` (the Stripe id, no sort
 * key), GSI `byStripeCustomer` on `stripeCustomerId` + `subscriptionId` for "all subscriptions of a customer".
 */
export const SUBSCRIPTIONS_TABLE_KEYS = { partition: 'subscriptionId' } as const;
export const BY_STRIPE_CUSTOMER_INDEX = { name: 'byStripeCustomer', partition: 'stripeCustomerId', sort: 'subscriptionId' } as const;

export function subscriptionKey(subscriptionId: string) {
  return { subscriptionId };
}

/** Ledger head: one item per customer and period holding what was billed and a version, so reservations serialise. */
export function ledgerHeadKey(customerId: string, period: string) {
  return { pk: ledgerPartition(customerId, period), sk: 'HEAD' };
}
