import type { SubscriptionItemState } from '../records/schema.js';
import type { StripeSubscription, SubscriptionEventType } from './events.js';
import { notification, type NotificationKind } from './notifications.js';
import type { Notification, SubscriptionState } from './ports.js';

/** The snapshot to store: every subscription event carries the whole subscription, so the newest one wins. */
export function subscriptionStateFrom(
  event: { readonly id: string; readonly type: SubscriptionEventType; readonly created: number },
  subscription: StripeSubscription,
): SubscriptionState {
  const items: SubscriptionItemState[] = subscription.items.data.map((item) => ({
    itemId: item.id,
    priceId: item.price.id,
    productId: item.price.product,
    ...(item.quantity === undefined ? {} : { quantity: item.quantity }),
    currentPeriodStart: item.current_period_start,
    currentPeriodEnd: item.current_period_end,
  }));
  // Since API 2025-03-31.basil the current period lives on each item; the subscription's is their span.
  const starts = items.map((item) => item.currentPeriodStart);
  const ends = items.map((item) => item.currentPeriodEnd);
  return {
    subscriptionId: subscription.id,
    stripeCustomerId: subscription.customer,
    status: subscription.status,
    items,
    ...(items.length ? { currentPeriodStart: Math.min(...starts), currentPeriodEnd: Math.max(...ends) } : {}),
    ...optional('cancelAt', subscription.cancel_at),
    cancelAtPeriodEnd: subscription.cancel_at_period_end,
    ...optional('canceledAt', subscription.canceled_at),
    ...optional('endedAt', subscription.ended_at),
    ...optional('trialStart', subscription.trial_start),
    ...optional('trialEnd', subscription.trial_end),
    lastEventId: event.id,
    lastEventType: event.type,
    lastEventCreated: event.created,
  };
}

const ANNOUNCED_EVENT: Partial<Record<SubscriptionEventType, { kind: NotificationKind; subject: (subscription: StripeSubscription) => string }>> = {
  'customer.subscription.created': { kind: 'subscription-created', subject: (s) => `Subscription created: ${s.id} (${s.status})` },
  'customer.subscription.deleted': { kind: 'subscription-canceled', subject: (s) => `Subscription canceled: ${s.id}` },
  'customer.subscription.trial_will_end': {
    kind: 'subscription-trial-ending',
    subject: (s) => `Trial ending: subscription ${s.id}${s.trial_end ? ` on ${new Date(s.trial_end * 1000).toISOString().slice(0, 10)}` : ''}`,
  },
};

/**
 * Creation, cancellation and a trial about to end are facts whatever order they arrive in, so each is announced
 * once per event (the dedupe marker sees to "once"), even when a newer snapshot is already stored.
 */
export function subscriptionNotification(
  event: { readonly id: string; readonly type: SubscriptionEventType; readonly livemode: boolean },
  subscription: StripeSubscription,
): Notification | undefined {
  const announcement = ANNOUNCED_EVENT[event.type];
  if (!announcement) return undefined;
  return notification(
    announcement.kind,
    announcement.subject(subscription),
    {
      eventId: event.id,
      eventType: event.type,
      livemode: event.livemode,
      stripeCustomerId: subscription.customer,
      subscriptionId: subscription.id,
      ...(subscription.metadata?.customerId ? { customerId: subscription.metadata.customerId } : {}),
    },
    {
      status: subscription.status,
      cancelAtPeriodEnd: subscription.cancel_at_period_end,
      ...(subscription.trial_end ? { trialEnd: new Date(subscription.trial_end * 1000).toISOString() } : {}),
      ...(subscription.cancel_at ? { cancelAt: new Date(subscription.cancel_at * 1000).toISOString() } : {}),
    },
  );
}

function optional<K extends string>(key: K, value: number | null): { [P in K]?: number } {
  return value === null ? {} : ({ [key]: value } as { [P in K]: number });
}
