import type { CostSnapshot } from '../costs/types.js';
import type { Micros } from '../money.js';
import type { InvoiceField, InvoiceLine } from './lines.js';
import type { BillingPeriod } from '../period.js';
import type { InvoiceRecord, InvoiceStatus, LedgerEntryRecord } from '../records/schema.js';

/** Where the billing run gets the period's costs: the cost check's JSON report, or a Cost Explorer query. */
export type LoadCosts = (period: BillingPeriod) => Promise<CostSnapshot>;

export type BillingMode = 'scheduled' | 'true-up' | 'fixed-amount';

/** One step of billing a customer in a period (see LedgerEntryRecord). */
export type LedgerEntryKind = LedgerEntryRecord['kind'];

/** A ledger entry as the domain sees it: the stored record (src/records/schema.ts) without its storage keys. */
export type LedgerEntry = Omit<LedgerEntryRecord, 'pk' | 'sk' | 'recordType'>;

export interface EntryResult {
  readonly invoiceId?: string;
  readonly creditId?: string;
}

/** A customer's ledger for a period as one run read it. */
export interface LedgerState {
  readonly entries: LedgerEntry[];
  /**
   * Version of the ledger head: every reservation or release of an entry that counts towards the overage moves it
   * on by one (0 before the first). A reservation planned on an older version is refused.
   */
  readonly version: number;
}

export type Reservation =
  | { readonly reserved: true; readonly version: number }
  /** `existing`: the entry id is taken; absent: another run changed what was billed since this one read the ledger. */
  | { readonly reserved: false; readonly existing?: LedgerEntry };

/** The ledger port: a DynamoDB adapter in production, the same adapter against moto in tests. */
export interface LedgerPort {
  read(customerId: string, period: string): Promise<LedgerState>;
  /**
   * Puts the entry and moves the ledger head on from `version` in one transaction: of two runs planned on the same
   * ledger, only one reserves, whatever their entry ids.
   */
  reserve(entry: LedgerEntry, version: number): Promise<Reservation>;
  /** Marks a pending entry completed; false when another run completed it first. */
  complete(entry: LedgerEntry, result: EntryResult, at: Date): Promise<boolean>;
  /** Deletes a pending entry whose Stripe call failed before anything was created there, and rolls the head back. */
  release(entry: LedgerEntry): Promise<void>;
  recordInvoice(record: InvoiceRecord): Promise<void>;
  /** The status of an invoice record in the billing table, undefined when there is none. */
  invoiceStatus(invoiceId: string): Promise<InvoiceStatus | undefined>;
}

export interface InvoiceRequest {
  /** Prefix of every idempotency key of this entry: "<customer>/<period>/<entry>". */
  readonly ledgerEntry: string;
  readonly customerId: string;
  readonly period: string;
  readonly stripeCustomerId: string;
  readonly currency: string;
  readonly amountMinor: number;
  readonly lineDescription: string;
  /** The invoice's items, adding up to `amountMinor`; absent: one item of `amountMinor` described by `lineDescription`. */
  readonly lines?: readonly InvoiceLine[];
  readonly customFields?: readonly InvoiceField[];
  readonly collectionMethod: 'send_invoice' | 'charge_automatically';
  readonly daysUntilDue: number;
  /** True when a previous run reserved the entry: look for an invoice it may have created first. */
  readonly resume: boolean;
}

export interface IssuedInvoice {
  readonly invoiceId: string;
  readonly status: string;
  readonly hostedInvoiceUrl: string | undefined;
  readonly amountDue: number;
  readonly currency: string;
}

export interface CreditRequest {
  readonly ledgerEntry: string;
  readonly stripeCustomerId: string;
  readonly currency: string;
  /** The credit, as a positive number of minor units. */
  readonly amountMinor: number;
  readonly description: string;
  readonly resume: boolean;
}

export interface MeterEventRequest {
  readonly ledgerEntry: string;
  readonly eventName: string;
  readonly stripeCustomerId: string;
  readonly value: number;
  readonly identifier: string;
  readonly timestamp: number;
  /**
   * True for a pending entry reserved longer ago than Stripe's identifier dedupe window: Stripe may count the
   * identifier again, so the meter event summary is read before anything is sent.
   */
  readonly pastDedupeWindow: boolean;
}

/**
 * How a meter event reached Stripe: `sent` now; `duplicate`: Stripe refused the identifier as already held (proof that
 * an earlier run's event was recorded); `in-summary`: past the dedupe window, the meter event summary at the event's
 * time already holds it; `sent-after-summary`: past the dedupe window, the summary held nothing, so it was sent.
 */
export type MeterDelivery = 'sent' | 'duplicate' | 'in-summary' | 'sent-after-summary';

/** The Stripe port: every call is idempotent on the ledger entry, so calling it again for a pending entry is safe. */
export interface StripeBillingPort {
  /** The requests per second the adapter lets through (its rate limiter); billing keeps a second of them in flight. */
  readonly requestsPerSecond?: number;
  issueInvoice(request: InvoiceRequest): Promise<IssuedInvoice>;
  creditBalance(request: CreditRequest): Promise<{ creditId: string }>;
  sendMeterEvent(request: MeterEventRequest): Promise<MeterDelivery>;
  dashboardUrl(invoiceId: string): string;
}

/** How the overage of a customer was found (absent for a fixed charge). */
export interface OverageBasis {
  readonly cost: Micros;
  readonly markupPercent: number;
  readonly costWithMarkup: Micros;
  readonly allowance: Micros;
  readonly overage: Micros;
  /** The overage rounded once to the currency's minor unit: what the period's invoices add up to. */
  readonly overageMinor: number;
  readonly topServices: readonly string[];
}

export type PlannedAction =
  | { readonly kind: 'invoice'; readonly entry: LedgerEntry }
  | { readonly kind: 'credit'; readonly entry: LedgerEntry }
  | { readonly kind: 'meter'; readonly entry: LedgerEntry; readonly eventName: string }
  /** A true-up with nothing to bill: its entry is reserved and completed without a Stripe call. */
  | { readonly kind: 'close'; readonly entry: LedgerEntry };

export interface CustomerPlan {
  readonly customerId: string;
  readonly name: string;
  readonly stripeCustomerId: string;
  readonly currency: string;
  readonly billingMode: 'invoice' | 'meter';
  readonly basis: OverageBasis | undefined;
  /** Overage already billed this period (completed and pending entries), in minor units. */
  readonly alreadyBilledMinor: number;
  /** The ledger head version the plan was made on: its reservations are conditioned on it. */
  readonly ledgerVersion: number;
  /** What this run bills (positive) or credits (negative), including resumed entries. */
  readonly amountNowMinor: number;
  /** Entries a previous run reserved and did not complete: resumed with the same idempotency keys. */
  readonly resume: readonly PlannedAction[];
  readonly actions: readonly PlannedAction[];
  /** Why the plan is what it is, for people. */
  readonly note: string;
  /** Set when the customer cannot be billed at all (its plan has no actions): reported as a failure of the run. */
  readonly failure?: string;
}

export interface BillingPlan {
  readonly mode: BillingMode;
  readonly period: string;
  readonly generatedAt: string;
  readonly customers: readonly CustomerPlan[];
}
