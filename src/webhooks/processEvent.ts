import type { WebhookEvent } from './events.js';
import { invoiceNotification, invoiceUpdateFrom } from './invoices.js';
import type { EventLedger, InvoiceStore, Publisher, RecordedOutcome, SubscriptionStore } from './ports.js';
import { subscriptionNotification, subscriptionStateFrom } from './subscriptions.js';

export interface EventProcessingDeps {
  readonly ledger: EventLedger;
  readonly invoices: InvoiceStore;
  readonly subscriptions: SubscriptionStore;
  readonly publish: Publisher;
  readonly clock: () => number;
}

export type EventOutcome =
  | { readonly outcome: 'processed'; readonly effectApplied: boolean; readonly messageId?: string }
  | { readonly outcome: 'duplicate' }
  | { readonly outcome: 'in_progress' }
  | { readonly outcome: 'ignored' };

/**
 * Applies one verified event at most once in effect: claim its dedupe marker, apply the effect (a conditional
 * write that only moves state forward), record what it did, publish the notification, mark it done. A failure
 * releases the claim and propagates, so the caller answers 500 and Stripe's redelivery finishes the job without
 * repeating what was recorded. Used by the webhook handler and by the backfill script alike.
 */
export async function processEvent(event: WebhookEvent, deps: EventProcessingDeps): Promise<EventOutcome> {
  if (event.kind === 'unhandled') return { outcome: 'ignored' };
  const { id: eventId, type: eventType, created: eventCreated } = event.envelope;

  const claim = await deps.ledger.claim({ eventId, eventType, eventCreated }, deps.clock());
  if (claim.kind !== 'claimed') return { outcome: claim.kind === 'done' ? 'duplicate' : 'in_progress' };

  try {
    let recorded = claim.recorded;
    if (!recorded) {
      recorded = await applyEffect(event, deps);
      await deps.ledger.recordOutcome(eventId, claim.token, recorded);
    }
    const messageId = recorded.notification ? (await deps.publish(recorded.notification)).messageId : undefined;
    await deps.ledger.complete(eventId, claim.token, messageId, deps.clock());
    return { outcome: 'processed', effectApplied: recorded.effectApplied, ...(messageId ? { messageId } : {}) };
  } catch (error) {
    await deps.ledger.release(eventId, claim.token).catch(() => undefined);
    throw error;
  }
}

async function applyEffect(event: Exclude<WebhookEvent, { kind: 'unhandled' }>, deps: EventProcessingDeps): Promise<RecordedOutcome> {
  const { envelope } = event;
  if (event.kind === 'invoice') {
    const update = invoiceUpdateFrom({ id: envelope.id, type: event.type, created: envelope.created }, event.invoice);
    const result = await deps.invoices.applyInvoiceUpdate(update, deps.clock());
    const notification = invoiceNotification(update, result, envelope.livemode);
    return { effectApplied: result.applied, ...(notification ? { notification } : {}) };
  }
  const state = subscriptionStateFrom({ id: envelope.id, type: event.type, created: envelope.created }, event.subscription);
  const result = await deps.subscriptions.upsertSubscription(state, deps.clock());
  const notification = subscriptionNotification({ id: envelope.id, type: event.type, livemode: envelope.livemode }, event.subscription);
  return { effectApplied: result.applied, ...(notification ? { notification } : {}) };
}
