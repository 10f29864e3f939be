import type { Notification, Publisher } from '../notifications.js';
import type { InvoiceStatus, SubscriptionRecord } from '../records/schema.js';

/** What the webhook domain needs from storage; the DynamoDB adapter is src/store/webhookStore.ts. */

export interface EventClaimRequest {
  readonly eventId: string;
  readonly eventType: string;
  readonly eventCreated: number;
}

/** What a previous attempt at the same event already did, kept on its dedupe marker. */
export interface RecordedOutcome {
  readonly effectApplied: boolean;
  readonly notification?: Notification;
}

export type EventSettlement =
  /** Nothing to publish: the marker now says done. */
  | { readonly kind: 'settled' }
  /** A notification to publish: this delivery holds the claim; `recorded` is what the first attempt recorded. */
  | { readonly kind: 'claimed'; readonly token: string; readonly recorded: RecordedOutcome }
  | { readonly kind: 'done' }
  /** Another delivery of the same event holds a live claim. */
  | { readonly kind: 'in_progress' };

/**
 * Dedupe markers: one per event id, written once the effect is applied (the effect is idempotent per event), either
 * done at once when there is nothing to publish, or claimed with the notification recorded, then completed.
 */
export interface EventLedger {
  settle(request: EventClaimRequest, outcome: RecordedOutcome, nowMs: number): Promise<EventSettlement>;
  complete(eventId: string, token: string, messageId: string | undefined, nowMs: number): Promise<void>;
  /** Lets the next delivery take over at once; best effort (the lease expires anyway). */
  release(eventId: string, token: string): Promise<void>;
}

export interface InvoiceUpdate {
  readonly invoiceId: string;
  readonly stripeCustomerId: string;
  readonly status: InvoiceStatus;
  readonly statusRank: number;
  readonly amountDue: number;
  readonly amountPaid: number;
  readonly currency: string;
  readonly hostedInvoiceUrl?: string;
  readonly invoiceNumber?: string;
  readonly subscriptionId?: string;
  /** From the invoice metadata the billing action sets; written only where the record has none yet. */
  readonly customerId?: string;
  readonly period?: string;
  readonly ledgerEntry?: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly eventCreated: number;
}

export type InvoiceUpdateResult =
  | {
      readonly applied: false;
      /** The record that is further along (or newer), as it is stored. */
      readonly stored?: { readonly status: InvoiceStatus; readonly customerId?: string };
    }
  | {
      readonly applied: true;
      /** The record as it was before, when there was one. */
      readonly previous?: { readonly status: InvoiceStatus; readonly lastEventId?: string; readonly customerId?: string };
    };

export interface InvoiceStore {
  /** Writes the update unless the stored status is further along or the stored event is newer. */
  applyInvoiceUpdate(update: InvoiceUpdate, nowMs: number): Promise<InvoiceUpdateResult>;
}

export type SubscriptionState = Omit<SubscriptionRecord, 'recordType' | 'updatedAt'>;

export interface SubscriptionStore {
  /** Replaces the stored snapshot only when this one comes from a newer event. */
  upsertSubscription(state: SubscriptionState, nowMs: number): Promise<{ readonly applied: boolean }>;
}

export type { Notification, Publisher };
