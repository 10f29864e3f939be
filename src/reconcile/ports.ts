import type { LedgerEntry } from '../billing/types.js';
import type { InvoiceStatus } from '../records/schema.js';
import type { InvoiceUpdate, InvoiceUpdateResult } from '../webhooks/ports.js';

/** Stripe's invoice statuses (the record's `payment_failed` and `overdue` are open invoices in Stripe). */
export type StripeInvoiceStatus = 'draft' | 'open' | 'paid' | 'uncollectible' | 'void';

/** A Stripe invoice as reconciliation reads it. */
export interface StripeInvoiceView {
  readonly id: string;
  readonly stripeCustomerId: string;
  readonly status: StripeInvoiceStatus;
  /** Integer minor units of `currency`. */
  readonly total: number;
  readonly amountDue: number;
  readonly amountPaid: number;
  readonly currency: string;
  /** Epoch seconds. */
  readonly created: number;
  /** When it reached its status (epoch seconds): stands as the event time of a status repair. */
  readonly statusAt: number;
  /** This project's metadata: our customer id, the period and the ledger entry reference. */
  readonly customerId?: string;
  readonly period?: string;
  readonly ledgerEntry?: string;
  readonly hostedInvoiceUrl?: string;
  readonly number?: string;
}

/** Read-only access to Stripe: the adapter pages every list through the rate limiter. */
export interface StripeInvoiceReader {
  /** Invoices created in [createdFrom, createdTo) (epoch seconds) that carry this project's metadata. */
  listOurInvoices(range: { readonly createdFrom: number; readonly createdTo: number }): Promise<StripeInvoiceView[]>;
  /** One invoice; undefined when Stripe has no such invoice (deleted). */
  getInvoice(invoiceId: string): Promise<StripeInvoiceView | undefined>;
  /** Stripe requests made so far. */
  readonly requests: number;
}

/** The billing table as reconciliation reads it and, for status repairs only, writes it (the webhook's rules). */
export interface ReconcileStore {
  readLedger(customerId: string, period: string): Promise<readonly LedgerEntry[]>;
  invoiceStatus(invoiceId: string): Promise<InvoiceStatus | undefined>;
  /** Forward-only, as the webhook handler applies Stripe events. */
  applyInvoiceUpdate(update: InvoiceUpdate, nowMs: number): Promise<InvoiceUpdateResult>;
}
