import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, type Dynalite } from '../support/dynalite.js';
import { startMoto, type Moto } from '../support/moto.js';
import { fixtureEvent, signedDelivery, withIds } from '../support/stripeEvents.js';
import { comparableSubscription, lifecycleFor, permutations } from '../support/subscriptionLifecycle.js';
import { deployHarness, type WebhookHarness } from '../support/webhookHarness.js';
import { buildWebhookBundle } from '../support/webhookLambda.js';

const SECRET = 'whsec_orderingSecret0123456789abcdef';
const SUBSCRIPTION = 'sub_1SwXyZ2eZvKYlo2C8a7bQ4rT';

let moto: Moto;
let dynalite: Dynalite;
let harness: WebhookHarness;

beforeAll(async () => {
  moto = await startMoto();
  dynalite = await startDynalite();
  // DynamoDB on dynalite (in-process, fast); SNS and SSM on moto.
  harness = await deployHarness(moto, buildWebhookBundle(), { secretValue: SECRET, dynamoEndpoint: dynalite.endpoint });
});
afterAll(async () => {
  await dynalite?.stop();
  await moto?.stop();
});

describe('billing-handler bundle: subscription events in any order', () => {
  // All 120 orders run on the in-memory store (test/unit/webhooks/subscriptionOrdering.test.ts); here a sample of
  // them (in order, reversed, and every 24th between) runs through the bundle, DynamoDB and SNS.
  it('reaches the same final state and the same three announcements for a sample of the 120 orders of a lifecycle', async () => {
    const all = permutations([0, 1, 2, 3, 4]);
    const orders = [0, 24, 48, 72, 96, 119].map((index) => all[index]!);
    expect(orders.map((order) => order.join(''))).toEqual(['01234', '10234', '20134', '30124', '40123', '43210']);

    const finals = [];
    for (const [run, order] of orders.entries()) {
      const events = lifecycleFor(run);
      for (const index of order) {
        const response = await harness.deliver(signedDelivery(JSON.stringify(events[index]), SECRET));
        expect(response.statusCode).toBe(200);
      }
      finals.push(comparableSubscription(await harness.subscription(`sub_order${run}`)));
    }

    expect(finals[0]).toMatchObject({ status: 'canceled', lastEvent: fixtureEvent('customer.subscription.deleted').id, endedAt: expect.any(Number) });
    for (const final of finals) expect(final).toEqual(finals[0]);

    const bySubscription = new Map<string, string[]>();
    for (const message of await harness.messages()) {
      const kinds = bySubscription.get(message.attributes.subscriptionId ?? '') ?? [];
      bySubscription.set(message.attributes.subscriptionId ?? '', [...kinds, message.attributes.type ?? '']);
    }
    expect(bySubscription.size).toBe(orders.length);
    for (const kinds of bySubscription.values()) {
      expect(kinds.sort()).toEqual(['subscription-canceled', 'subscription-created', 'subscription-trial-ending']);
    }
  });

  it('breaks a tie between two updates created in the same second the same way in both orders', async () => {
    const first = withIds(fixtureEvent('customer.subscription.updated.quantity'), { [SUBSCRIPTION]: 'sub_tieA', evt_1SwZb22eZvKYlo2CsUbUp001: 'evt_tieA1' });
    const second = {
      ...withIds(fixtureEvent('customer.subscription.updated.active'), { [SUBSCRIPTION]: 'sub_tieA', evt_1SwZd42eZvKYlo2CsUbUp002: 'evt_tieA2' }),
      created: first.created,
    };
    const mirrored = [second, first].map((event) => withIds(event, { sub_tieA: 'sub_tieB', evt_tieA: 'evt_tieB' }));

    for (const event of [first, second, ...mirrored]) {
      expect((await harness.deliver(signedDelivery(JSON.stringify(event), SECRET))).statusCode).toBe(200);
    }

    expect(await harness.subscription('sub_tieA')).toMatchObject({ lastEventId: 'evt_tieA2', status: 'active' });
    expect(await harness.subscription('sub_tieB')).toMatchObject({ lastEventId: 'evt_tieB2', status: 'active' });
  });
});
