import { describe, expect, it } from 'vitest';
import { parseEvent } from '../../../src/webhooks/events.js';
import { subscriptionNotification, subscriptionStateFrom } from '../../../src/webhooks/subscriptions.js';
import { fixtureEvent, type FixtureName } from '../../support/stripeEvents.js';

function subscriptionEvent(name: FixtureName, change: (raw: ReturnType<typeof fixtureEvent>) => void = () => {}) {
  const raw = fixtureEvent(name);
  change(raw);
  const event = parseEvent(raw);
  if (event.kind !== 'subscription') throw new Error('expected a subscription event');
  return { meta: { id: event.envelope.id, type: event.type, created: event.envelope.created, livemode: event.envelope.livemode }, subscription: event.subscription };
}

describe('subscriptionStateFrom', () => {
  it('keeps customer, status, items with prices, the current period, trial and cancellation', () => {
    const { meta, subscription } = subscriptionEvent('customer.subscription.deleted');
    expect(subscriptionStateFrom(meta, subscription)).toEqual({
      subscriptionId: 'sub_1SwXyZ2eZvKYlo2C8a7bQ4rT',
      stripeCustomerId: 'cus_TqW3r8Xb2LmNoP',
      status: 'canceled',
      items: [{ itemId: 'si_TqW5xY6zA7bC8d', priceId: 'price_1SwXa12eZvKYlo2CkLmN0pQr', productId: 'prod_TqW1aB2cD3eF4g', quantity: 3, currentPeriodStart: 1796209600, currentPeriodEnd: 1798801600 }],
      currentPeriodStart: 1796209600,
      currentPeriodEnd: 1798801600,
      cancelAtPeriodEnd: false,
      canceledAt: 1796500000,
      endedAt: 1796500000,
      trialStart: 1795000000,
      trialEnd: 1796209600,
      lastEventId: meta.id,
      lastEventType: 'customer.subscription.deleted',
      lastEventCreated: meta.created,
    });
  });

  it('spans the current period over items that renew on different days', () => {
    const { meta, subscription } = subscriptionEvent('customer.subscription.updated.active', (raw) => {
      const items = (raw.data.object.items as { data: Array<Record<string, unknown>> }).data;
      items.push({ ...items[0], id: 'si_second', current_period_start: 1796000000, current_period_end: 1799000000 });
    });
    expect(subscriptionStateFrom(meta, subscription)).toMatchObject({ currentPeriodStart: 1796000000, currentPeriodEnd: 1799000000 });
  });
});

describe('subscriptionNotification', () => {
  it.each([
    ['customer.subscription.created', 'subscription-created', 'Subscription created: sub_1SwXyZ2eZvKYlo2C8a7bQ4rT (trialing)'],
    ['customer.subscription.deleted', 'subscription-canceled', 'Subscription canceled: sub_1SwXyZ2eZvKYlo2C8a7bQ4rT'],
    ['customer.subscription.trial_will_end', 'subscription-trial-ending', 'Trial ending: subscription sub_1SwXyZ2eZvKYlo2C8a7bQ4rT on 2026-12-02'],
  ] as const)('announces %s as %s', (name, kind, subject) => {
    const { meta, subscription } = subscriptionEvent(name);
    const notification = subscriptionNotification(meta, subscription);
    expect(notification?.subject).toBe(subject);
    expect(notification?.attributes).toMatchObject({ type: kind, subscriptionId: subscription.id, stripeCustomerId: 'cus_TqW3r8Xb2LmNoP', customer: 'acme', eventId: meta.id });
  });

  it('stays silent for ordinary updates', () => {
    const { meta, subscription } = subscriptionEvent('customer.subscription.updated.quantity');
    expect(subscriptionNotification(meta, subscription)).toBeUndefined();
  });
});
