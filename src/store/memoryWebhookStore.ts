import { randomUUID } from 'node:crypto';
import { isNewer } from '../webhooks/ordering.js';
import type { EventLedger, InvoiceStore, InvoiceUpdate, RecordedOutcome, SubscriptionState, SubscriptionStore } from '../webhooks/ports.js';

/**
 * In-memory stores with the same rules as the DynamoDB ones, for the demo, unit tests and measuring the
 * handler's own overhead without I/O. One process only: no leases needed beyond the claim itself.
 */
export interface MemoryWebhookStore {
  readonly ledger: EventLedger;
  readonly invoices: InvoiceStore;
  readonly subscriptions: SubscriptionStore;
  readonly invoiceRecords: Map<string, InvoiceUpdate>;
  readonly subscriptionRecords: Map<string, SubscriptionState>;
}

interface Marker {
  status: 'claimed' | 'done';
  token?: string;
  recorded?: RecordedOutcome;
}

export function memoryWebhookStore(): MemoryWebhookStore {
  const markers = new Map<string, Marker>();
  const invoiceRecords = new Map<string, InvoiceUpdate>();
  const subscriptionRecords = new Map<string, SubscriptionState>();
  const ownMarker = (eventId: string, token: string) => {
    const marker = markers.get(eventId);
    if (marker?.token !== token) throw new Error(`the claim on event ${eventId} is not held by this delivery`);
    return marker;
  };
  return {
    invoiceRecords,
    subscriptionRecords,
    ledger: {
      async settle({ eventId }, outcome) {
        const marker = markers.get(eventId);
        if (marker?.status === 'done') return { kind: 'done' };
        if (marker?.token) return { kind: 'in_progress' };
        const recorded = marker?.recorded?.notification ? marker.recorded : outcome;
        if (!recorded.notification) {
          markers.set(eventId, { status: 'done', recorded });
          return { kind: 'settled' };
        }
        const token = randomUUID();
        markers.set(eventId, { status: 'claimed', token, recorded });
        return { kind: 'claimed', token, recorded };
      },
      async complete(eventId, token) {
        const marker = ownMarker(eventId, token);
        marker.status = 'done';
        delete marker.token;
      },
      async release(eventId, token) {
        delete ownMarker(eventId, token).token;
      },
    },
    invoices: {
      async applyInvoiceUpdate(update) {
        const previous = invoiceRecords.get(update.invoiceId);
        const forward =
          !previous ||
          previous.statusRank < update.statusRank ||
          (previous.statusRank === update.statusRank &&
            isNewer({ created: update.eventCreated, eventId: update.eventId }, { created: previous.eventCreated, eventId: previous.eventId }));
        // This very event again writes nothing: the record is already its own.
        if (previous?.eventId === update.eventId) {
          return { applied: true, previous: { status: previous.status, lastEventId: update.eventId, ...customerOf(previous) } };
        }
        if (!forward) return { applied: false, stored: { status: previous.status, ...(previous.customerId ? { customerId: previous.customerId } : {}) } };
        // As in DynamoDB: what the metadata says about our customer is kept from the first write that knew it.
        const kept = previous
          ? Object.fromEntries(
              (['customerId', 'period', 'ledgerEntry'] as const).filter((name) => previous[name] !== undefined).map((name) => [name, previous[name]]),
            )
          : {};
        invoiceRecords.set(update.invoiceId, { ...update, ...kept });
        if (!previous) return { applied: true };
        return {
          applied: true,
          previous: { status: previous.status, lastEventId: previous.eventId, ...(previous.customerId ? { customerId: previous.customerId } : {}) },
        };
      },
    },
    subscriptions: {
      async upsertSubscription(state) {
        const stored = subscriptionRecords.get(state.subscriptionId);
        const stamp = (s: SubscriptionState) => ({ created: s.lastEventCreated, eventId: s.lastEventId });
        if (stored?.lastEventId === state.lastEventId) return { applied: true };
        if (stored && !isNewer(stamp(state), stamp(stored))) return { applied: false };
        subscriptionRecords.set(state.subscriptionId, state);
        return { applied: true };
      },
    },
  };
}

function customerOf(record: InvoiceUpdate): { customerId?: string } {
  return record.customerId ? { customerId: record.customerId } : {};
}
