import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { Notification } from '../../../src/notifications.js';
import { memoryWebhookStore } from '../../../src/store/memoryWebhookStore.js';
import { stripeSignatureVerifier } from '../../../src/stripe/webhookSignature.js';
import { createWebhookService } from '../../../src/webhooks/service.js';
import { fixtureEvent } from '../../support/stripeEvents.js';
import { comparableSubscription, lifecycleFor, permutations } from '../../support/subscriptionLifecycle.js';

/**
 * Every order of a subscription's lifecycle, through the webhook service on the in-memory store (same rules as the
 * DynamoDB one). test/e2e/webhook-ordering.test.ts delivers a sample of these orders to the built Lambda bundle.
 */
const SECRET = 'whsec_orderingUnit';

describe('webhook service: subscription events in any order', () => {
  it('reaches the same final state and the same three announcements for all 120 orders of a lifecycle', async () => {
    const store = memoryWebhookStore();
    const published: Notification[] = [];
    const webhooks = createWebhookService({
      ...store,
      publish: async (notification) => (published.push(notification), { messageId: `m-${published.length}` }),
      secrets: async () => [SECRET],
      verify: stripeSignatureVerifier,
      telemetry: { log: () => undefined, delivery: () => undefined },
      clock: Date.now,
      maxBodyBytes: 512 * 1024,
    });
    const orders = permutations([0, 1, 2, 3, 4]);
    expect(orders).toHaveLength(120);

    const finals = [];
    for (const [run, order] of orders.entries()) {
      const events = lifecycleFor(run);
      for (const index of order) {
        const payload = JSON.stringify(events[index]);
        const response = await webhooks.handleDelivery({
          headers: { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) },
          body: payload,
          isBase64Encoded: false,
        });
        expect(response.statusCode).toBe(200);
      }
      finals.push(comparableSubscription(store.subscriptionRecords.get(`sub_order${run}`)));
    }

    expect(finals[0]).toMatchObject({ status: 'canceled', lastEvent: fixtureEvent('customer.subscription.deleted').id, endedAt: expect.any(Number) });
    for (const final of finals) expect(final).toEqual(finals[0]);

    const bySubscription = new Map<string, string[]>();
    for (const { attributes } of published) {
      bySubscription.set(attributes.subscriptionId ?? '', [...(bySubscription.get(attributes.subscriptionId ?? '') ?? []), attributes.type ?? '']);
    }
    expect(bySubscription.size).toBe(120);
    for (const kinds of bySubscription.values()) expect(kinds.sort()).toEqual(['subscription-canceled', 'subscription-created', 'subscription-trial-ending']);
  });
});
