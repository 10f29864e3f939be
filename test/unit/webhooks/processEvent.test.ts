import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryWebhookStore } from '../../../src/store/memoryWebhookStore.js';
import { parseEvent } from '../../../src/webhooks/events.js';
import type { Notification } from '../../../src/webhooks/ports.js';
import { processEvent, type EventProcessingDeps } from '../../../src/webhooks/processEvent.js';
import { fixtureEvent, type FixtureName } from '../../support/stripeEvents.js';

function harness(publishFailures = 0) {
  const store = memoryWebhookStore();
  const published: Notification[] = [];
  let failuresLeft = publishFailures;
  const deps: EventProcessingDeps = {
    ...store,
    publish: async (notification) => {
      if (failuresLeft-- > 0) throw new Error('SNS unavailable');
      published.push(notification);
      return { messageId: `m-${published.length}` };
    },
    clock: () => Date.parse('2026-11-20T12:00:00Z'),
  };
  return { store, published, deps };
}

const event = (name: FixtureName) => parseEvent(fixtureEvent(name));

describe('processEvent', () => {
  it('applies an event, publishes its notification and marks it done', async () => {
    const { store, published, deps } = harness();

    expect(await processEvent(event('invoice.paid'), deps)).toEqual({ outcome: 'processed', effectApplied: true, messageId: 'm-1' });
    expect(await processEvent(event('invoice.paid'), deps)).toEqual({ outcome: 'duplicate' });
    expect(store.invoiceRecords.get('in_1SwYb32eZvKYlo2CQr5sT6uV')?.status).toBe('paid');
    expect(published).toHaveLength(1);
  });

  it('lets only one of concurrent deliveries work and tells the rest it is in progress', async () => {
    const { published, deps } = harness();

    const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => processEvent(event('customer.subscription.created'), deps)));

    expect(outcomes.filter((o) => o.outcome === 'processed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'in_progress' || o.outcome === 'duplicate')).toHaveLength(4);
    expect(published).toHaveLength(1);
  });

  it('releases the claim when publishing fails, and the retry publishes the recorded notification once', async () => {
    const { store, published, deps } = harness(1);

    await expect(processEvent(event('invoice.payment_failed'), deps)).rejects.toThrow('SNS unavailable');
    const written = [...store.invoiceRecords.values()];
    expect(await processEvent(event('invoice.payment_failed'), deps)).toMatchObject({ outcome: 'processed' });

    // The retry finds the event already in the record and writes nothing new.
    expect([...store.invoiceRecords.values()]).toHaveLength(1);
    expect([...store.invoiceRecords.values()][0]).toBe(written[0]);
    expect(published.map((n) => n.attributes.type)).toEqual(['payment-failed']);
  });

  it('ignores event types it does not handle without claiming them', async () => {
    const { deps } = harness();
    const claims: string[] = [];
    const spyDeps = {
      ...deps,
      ledger: { ...deps.ledger, settle: async (...args: Parameters<typeof deps.ledger.settle>) => (claims.push(args[0].eventId), deps.ledger.settle(...args)) },
    };

    expect(await processEvent(event('charge.succeeded'), spyDeps)).toEqual({ outcome: 'ignored' });
    expect(claims).toEqual([]);
  });

  it('reaches the same subscription state and announcements for any order and any repeats of the lifecycle', async () => {
    const lifecycle: readonly FixtureName[] = [
      'customer.subscription.created',
      'customer.subscription.updated.quantity',
      'customer.subscription.trial_will_end',
      'customer.subscription.updated.active',
      'customer.subscription.deleted',
    ];
    const inOrder = harness();
    for (const name of lifecycle) await processEvent(event(name), inOrder.deps);
    const expected = inOrder.store.subscriptionRecords.get('sub_1SwXyZ2eZvKYlo2C8a7bQ4rT');
    expect(expected).toMatchObject({ status: 'canceled' });

    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...lifecycle), { minLength: 5, maxLength: 12 }).filter((names) => lifecycle.every((name) => names.includes(name))),
        async (deliveries) => {
          const run = harness();
          for (const name of deliveries) await processEvent(event(name), run.deps);
          expect(run.store.subscriptionRecords.get('sub_1SwXyZ2eZvKYlo2C8a7bQ4rT')).toEqual(expected);
          expect(run.published.map((n) => n.attributes.type).sort()).toEqual(['subscription-canceled', 'subscription-created', 'subscription-trial-ending']);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('ends with the furthest invoice status for any order of invoice events', async () => {
    const invoiceEvents: readonly FixtureName[] = [
      'invoice.finalized',
      'invoice.payment_failed',
      'invoice.overdue',
      'invoice.payment_succeeded',
      'invoice.paid',
    ];
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray([...invoiceEvents], { minLength: invoiceEvents.length }), async (order) => {
        const run = harness();
        for (const name of order) await processEvent(event(name), run.deps);
        expect(run.store.invoiceRecords.get('in_1SwYb32eZvKYlo2CQr5sT6uV')?.status).toBe('paid');
        expect(run.published.filter((n) => n.attributes.type === 'payment-succeeded')).toHaveLength(1);
      }),
      { numRuns: 100 },
    );
  });
});
