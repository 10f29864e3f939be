/**
 * Record shapes of the billing table shared by the billing action (which creates invoice records) and the
 * webhook handler (which moves them forward). One schema, one module.
 */

/** Stripe invoice statuses plus `payment_failed`, an open invoice whose last payment attempt failed. */
export type InvoiceStatus = 'draft' | 'open' | 'payment_failed' | 'overdue' | 'uncollectible' | 'paid' | 'void';

/**
 * Status only moves forward: a late `invoice.payment_failed` never turns a paid invoice back to open.
 * An uncollectible invoice can still be paid, so paid outranks it; paid and void are final.
 */
export const INVOICE_STATUS_RANK: Readonly<Record<InvoiceStatus, number>> = {
  draft: 0,
  open: 1,
  payment_failed: 2,
  overdue: 3,
  uncollectible: 4,
  paid: 5,
  void: 5,
};

export interface InvoiceRecord {
  readonly pk: string;
  readonly sk: 'INVOICE';
  readonly recordType: 'invoice';
  readonly invoiceId: string;
  readonly stripeCustomerId: string;
  /** Our customer id from the billing config; absent for invoices created outside this system. */
  readonly customerId?: string;
  readonly period?: string;
  /** Integer minor units of `currency`. */
  readonly amountDue: number;
  readonly amountPaid?: number;
  readonly currency: string;
  readonly status: InvoiceStatus;
  readonly statusRank: number;
  readonly hostedInvoiceUrl?: string;
  readonly ledgerEntry?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** `created` of the newest Stripe event applied, in epoch seconds. */
  readonly lastEventCreated?: number;
  readonly gsi1pk?: string;
  readonly gsi1sk?: string;
}

export interface AlertMarker {
  readonly pk: string;
  readonly sk: string;
  readonly recordType: 'alert';
  readonly status: 'claimed' | 'sent';
  /** Random per claim: only the run that holds it may mark the alert sent or give it back. */
  readonly claimToken: string;
  readonly claimedAt: string;
  readonly sentAt?: string;
  readonly messageId?: string;
  readonly expiresAt: number;
}

/**
 * One step of billing a customer in a period, stored under `ledgerEntryKey` without TTL: the ledger is the record
 * of what was billed. `overage`, `true-up` and `meter` entries add to what the customer was billed for the
 * period's overage, `credit` entries subtract; `fixed` charges are separate and never count.
 */
export interface LedgerEntryRecord {
  readonly pk: string;
  readonly sk: string;
  readonly recordType: 'ledger';
  readonly customerId: string;
  readonly period: string;
  /** Unique within the customer's period: "overage-2026-11-15", "true-up", "meter-2026-11-14", "fixed-3f9a...". */
  readonly entryId: string;
  readonly kind: 'overage' | 'true-up' | 'credit' | 'meter' | 'fixed';
  /** Integer minor units of `currency`; negative for a credit. */
  readonly amountMinor: number;
  readonly currency: string;
  readonly stripeCustomerId: string;
  readonly description: string;
  readonly status: 'pending' | 'completed';
  readonly reservedAt: string;
  readonly completedAt?: string;
  readonly invoiceId?: string;
  readonly creditId?: string;
  /** Meter entries: the Stripe meter event identifier and the event's time (epoch seconds). */
  readonly meterIdentifier?: string;
  readonly meterTimestamp?: number;
  /**
   * Invoiced overage: the invoice's lines by AWS service (adding up to `amountMinor`) and its custom fields, fixed
   * when the entry is reserved so that a resumed run sends Stripe exactly the same invoice. Absent: one line.
   */
  readonly lines?: ReadonlyArray<{ readonly description: string; readonly amountMinor: number }>;
  readonly invoiceFields?: ReadonlyArray<{ readonly name: string; readonly value: string }>;
}

/** Kinds whose amounts make up what a customer was billed for the period's overage (and the ledger head's sum). */
const OVERAGE_KINDS: ReadonlySet<LedgerEntryRecord['kind']> = new Set(['overage', 'true-up', 'credit', 'meter']);

export function countsTowardsOverage(kind: LedgerEntryRecord['kind']): boolean {
  return OVERAGE_KINDS.has(kind);
}

/**
 * The ledger head (key ledgerHeadKey): `billedMinor` is the sum of the pending and completed entries that count
 * towards the overage, `version` moves on with every reservation and release of one, in the same transaction.
 */
export interface LedgerHeadRecord {
  readonly pk: string;
  readonly sk: 'HEAD';
  readonly recordType: 'ledgerHead';
  readonly billedMinor: number;
  readonly version: number;
  readonly updatedAt: string;
}

/** Fields the webhook handler adds to an invoice record, next to the shared InvoiceRecord ones. */
export interface InvoiceWebhookFields {
  /** Id of the newest Stripe event applied; breaks ties between events created in the same second. */
  readonly lastEventId?: string;
  readonly lastEventType?: string;
  readonly subscriptionId?: string;
  readonly invoiceNumber?: string;
}

/** One row of the subscriptions table: the newest snapshot Stripe sent of a subscription. */
export interface SubscriptionRecord {
  readonly subscriptionId: string;
  readonly recordType: 'subscription';
  readonly stripeCustomerId: string;
  /** Stripe's status: trialing, active, past_due, paused, canceled, ... */
  readonly status: string;
  readonly items: readonly SubscriptionItemState[];
  /** Earliest start and latest end over the items' current periods, epoch seconds. */
  readonly currentPeriodStart?: number;
  readonly currentPeriodEnd?: number;
  readonly cancelAt?: number;
  readonly cancelAtPeriodEnd: boolean;
  readonly canceledAt?: number;
  readonly endedAt?: number;
  readonly trialStart?: number;
  readonly trialEnd?: number;
  readonly lastEventId: string;
  readonly lastEventType: string;
  /** `created` of the Stripe event this snapshot came from, epoch seconds: only newer events replace it. */
  readonly lastEventCreated: number;
  readonly updatedAt: string;
}

export interface SubscriptionItemState {
  readonly itemId: string;
  readonly priceId: string;
  readonly productId: string;
  readonly quantity?: number;
  readonly currentPeriodStart: number;
  readonly currentPeriodEnd: number;
}

/**
 * Dedupe marker of one Stripe event (key webhookEventKey). `claimed` while a delivery works on it (until
 * `leaseUntil`), `done` once its effect and notification went out. The effect's outcome and the notification are
 * kept between attempts, so a retry after a failure half-way repeats neither.
 */
export interface WebhookEventMarker {
  readonly pk: string;
  readonly sk: 'EVENT';
  readonly recordType: 'webhookEvent';
  readonly eventId: string;
  readonly eventType: string;
  readonly eventCreated: number;
  readonly status: 'claimed' | 'done';
  readonly claimToken?: string;
  /** Epoch milliseconds after which another delivery may take the claim over. */
  readonly leaseUntil?: number;
  readonly attempts: number;
  readonly effectApplied?: boolean;
  readonly notification?: { readonly subject: string; readonly message: string; readonly attributes: Readonly<Record<string, string>> };
  readonly messageId?: string;
  readonly receivedAt: string;
  readonly completedAt?: string;
  readonly expiresAt: number;
}
