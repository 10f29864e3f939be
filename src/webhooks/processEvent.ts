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
 * Applies one verified event at most once in effect: apply the effect (a conditional write that only moves state
 * forward and writes nothing for an event already in), then settle its dedupe marker. With nothing to publish that
 * one write marks it done; otherwise it claims the event with the notification recorded, publishes it and marks it
 * done. A failure releases the claim and propagates, so the caller answers 500 and Stripe's redelivery publishes what
 * was recorded. Used by the webhook handler and by the backfill script alike.
 */
export async function processEvent(event: WebhookEvent, deps: EventProcessingDeps): Promise<EventOutcome> {
  if (event.kind === 'unhandled') return { outcome: 'ignored' };
  const { id: eventId, type: eventType, created: eventCreated } = event.envelope;

  const outcome = await applyEffect(event, deps);
  const settlement = await deps.ledger.settle({ eventId, eventType, eventCreated }, outcome, deps.clock());
  if (settlement.kind === 'done') return { outcome: 'duplicate' };
  if (settlement.kind === 'in_progress') return { outcome: 'in_progress' };
  if (settlement.kind === 'settled') return { outcome: 'processed', effectApplied: outcome.effectApplied };

  const { token, recorded } = settlement;
  try {
    const messageId = recorded.notification ? (await deps.publish(recorded.notification)).messageId : undefined;
    await deps.ledger.complete(eventId, token, messageId, deps.clock());
    return { outcome: 'processed', effectApplied: recorded.effectApplied, ...(messageId ? { messageId } : {}) };
  } catch (error) {
    await deps.ledger.release(eventId, token).catch(() => undefined);
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
