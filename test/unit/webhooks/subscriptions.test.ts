import { describe, expect, it } from 'vitest';
import { memoryWebhookStore } from '../../../src/store/memoryWebhookStore.js';
import { parseEvent } from '../../../src/webhooks/events.js';
import type { Notification } from '../../../src/webhooks/ports.js';
import { processEvent } from '../../../src/webhooks/processEvent.js';
import { subscriptionNotification, subscriptionStateFrom } from '../../../src/webhooks/subscriptions.js';
import { fixtureEvent, type FixtureName } from '../../support/stripeEvents.js';

function subscriptionEvent(name: FixtureName, change: (raw: ReturnType<typeof fixtureEvent>) => void = () => {}) {
  const raw = fixtureEvent(name);
  change(raw);
  const event = parseEvent(raw);
  if (event.kind !== 'subscription') throw new Error('expected a subscription event');
  return {
    meta: { id: event.envelope.id, type: event.type, created: event.envelope.created, livemode: event.envelope.livemode },
    subscription: event.subscription,
  };
}

describe('subscriptionStateFrom', () => {
  it('keeps customer, status, items with prices, the current period, trial and cancellation', () => {
    const { meta, subscription } = subscriptionEvent('customer.subscription.deleted');
    expect(subscriptionStateFrom(meta, subscription)).toEqual({
      subscriptionId: 'sub_1SwXyZ2eZvKYlo2C8a7bQ4rT',
      stripeCustomerId: 'cus_TqW3r8Xb2LmNoP',
      status: 'canceled',
      items: [
        {
          itemId: 'si_TqW5xY6zA7bC8d',
          priceId: 'price_1SwXa12eZvKYlo2CkLmN0pQr',
          productId: 'prod_TqW1aB2cD3eF4g',
          quantity: 3,
          currentPeriodStart: 1796209600,
          currentPeriodEnd: 1798801600,
        },
      ],
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
    expect(notification?.attributes).toMatchObject({
      type: kind,
      subscriptionId: subscription.id,
      stripeCustomerId: 'cus_TqW3r8Xb2LmNoP',
      customer: 'acme',
      eventId: meta.id,
    });
  });

  it.each(['customer.subscription.updated.quantity', 'customer.subscription.paused', 'customer.subscription.resumed'] as const)(
    'stays silent for %s',
    (name) => {
      const { meta, subscription } = subscriptionEvent(name);
      expect(subscriptionNotification(meta, subscription)).toBeUndefined();
    },
  );
});

describe('paused and resumed subscriptions', () => {
  // A trial without a payment method that pauses when it ends (trial_settings.end_behavior.missing_payment_method
  // = pause), then resumes once the customer added one: a subscription of its own, not the lifecycle fixtures' one.
  const SUBSCRIPTION = 'sub_1SwXzQ2eZvKYlo2CpAu5eD7r';

  function handler() {
    const store = memoryWebhookStore();
    const published: Notification[] = [];
    const deps = {
      ...store,
      publish: async (notification: Notification) => (published.push(notification), { messageId: `m-${published.length}` }),
      clock: () => Date.parse('2026-12-10T12:00:00Z'),
    };
    return {
      deliver: (name: FixtureName) => processEvent(parseEvent(fixtureEvent(name)), deps),
      stored: () => store.subscriptionRecords.get(SUBSCRIPTION),
      published,
    };
  }

  it('stores status paused, keeping the trial period the subscription stopped at', async () => {
    const { deliver, stored, published } = handler();

    expect(await deliver('customer.subscription.paused')).toEqual({ outcome: 'processed', effectApplied: true });

    expect(stored()).toMatchObject({
      status: 'paused',
      stripeCustomerId: 'cus_TqX7kP4mWn2RsT',
      currentPeriodStart: 1795100000,
      currentPeriodEnd: 1796309600,
      trialEnd: 1796309600,
      lastEventId: fixtureEvent('customer.subscription.paused').id,
      lastEventType: 'customer.subscription.paused',
    });
    expect(published).toEqual([]);
  });

  it('stores status active again, with the period restarted at the resume, when the resumed event follows', async () => {
    const { deliver, stored, published } = handler();

    await deliver('customer.subscription.paused');
    expect(await deliver('customer.subscription.resumed')).toEqual({ outcome: 'processed', effectApplied: true });

    expect(stored()).toMatchObject({
      status: 'active',
      currentPeriodStart: 1796568800,
      currentPeriodEnd: 1799160800,
      lastEventId: fixtureEvent('customer.subscription.resumed').id,
      lastEventType: 'customer.subscription.resumed',
    });
    expect(published).toEqual([]);
  });

  it('keeps the resumed state when the older paused event is delivered after it', async () => {
    const { deliver, stored } = handler();
    await deliver('customer.subscription.resumed');
    const resumed = structuredClone(stored());

    expect(await deliver('customer.subscription.paused')).toEqual({ outcome: 'processed', effectApplied: false });

    expect(stored()).toEqual(resumed);
    expect(stored()).toMatchObject({ status: 'active', lastEventType: 'customer.subscription.resumed' });
  });
});
