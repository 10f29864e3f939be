import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { webhookEventKey } from '../../src/records/keys.js';
import { dynamoEventLedger, dynamoInvoiceStore, dynamoSubscriptionStore } from '../../src/store/webhookStore.js';
import { parseEvent } from '../../src/webhooks/events.js';
import type { Notification } from '../../src/webhooks/ports.js';
import { processEvent, type EventProcessingDeps } from '../../src/webhooks/processEvent.js';
import { startDynalite, type Dynalite } from '../support/dynalite.js';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy.js';
import { startMoto, type Moto } from '../support/moto.js';
import { fixtureEvent, type FixtureName } from '../support/stripeEvents.js';
import { webhookTables } from '../support/webhookTables.js';

// DynamoDB round trips per event, counted as HTTP requests through a proxy in front of the emulator.
let moto: Moto;
let dynalite: Dynalite;
beforeAll(async () => {
  moto = await startMoto();
  dynalite = await startDynalite();
});
afterAll(async () => {
  await dynalite?.stop();
  await moto?.stop();
});

const NOW = Date.parse('2026-11-20T12:00:00Z');
const event = (name: FixtureName) => parseEvent(fixtureEvent(name));

// moto answers a failed condition with the item (ReturnValuesOnConditionCheckFailure); dynalite leaves it out, so
// there a failed condition costs the one read that stands in for it.
describe.each([
  ['moto', () => moto.endpoint, 0],
  ['dynalite', () => dynalite.endpoint, 1],
])('webhook round trips to DynamoDB on %s', (_name, endpoint, readAfterFailedCondition) => {
  let proxy: FaultProxy;
  let documents: DynamoDBDocumentClient;
  let billingTable: string;
  let calls: string[];
  let published: Notification[];
  let publishFailures: number;
  let deps: EventProcessingDeps;

  beforeEach(async () => {
    proxy = await startFaultProxy(endpoint());
    const created = await webhookTables(proxy.endpoint);
    documents = created.documents;
    billingTable = created.tables.billingTable;
    calls = [];
    published = [];
    publishFailures = 0;
    proxy.failWhen((call) => (calls.push(call.target.replace('DynamoDB_20120810.', '')), false));
    deps = {
      ledger: dynamoEventLedger(documents, billingTable),
      invoices: dynamoInvoiceStore(documents, billingTable),
      subscriptions: dynamoSubscriptionStore(documents, created.tables.subscriptionsTable),
      publish: async (notification) => {
        if (publishFailures-- > 0) throw new Error('SNS unavailable');
        published.push(notification);
        return { messageId: `m-${published.length}` };
      },
      clock: () => NOW,
    };
    return () => proxy.stop();
  });

  const roundTrips = async (name: FixtureName) => {
    calls = [];
    const outcome = await processEvent(event(name), deps);
    return { outcome: outcome.outcome, calls: [...calls] };
  };

  it('takes two round trips for an event with nothing to publish and three with a notification', async () => {
    expect(await roundTrips('invoice.finalized')).toEqual({ outcome: 'processed', calls: ['UpdateItem', 'UpdateItem'] });
    expect(await roundTrips('customer.subscription.updated.active')).toEqual({ outcome: 'processed', calls: ['PutItem', 'UpdateItem'] });
    expect(await roundTrips('invoice.paid')).toEqual({ outcome: 'processed', calls: ['UpdateItem', 'UpdateItem', 'UpdateItem'] });
    expect(published.map((n) => n.attributes.type)).toEqual(['payment-succeeded']);
  });

  it('answers a duplicate in two round trips without writing the record or notifying again', async () => {
    await roundTrips('invoice.paid');
    const marker = (await documents.send(new GetCommand({ TableName: billingTable, Key: webhookEventKey(event('invoice.paid').envelope.id) }))).Item;

    const again = await roundTrips('invoice.paid');

    expect(again.outcome).toBe('duplicate');
    expect(again.calls).toHaveLength(2 + 2 * readAfterFailedCondition);
    expect(again.calls.filter((call) => call !== 'GetItem')).toEqual(['UpdateItem', 'UpdateItem']);
    expect(published).toHaveLength(1);
    const after = (await documents.send(new GetCommand({ TableName: billingTable, Key: webhookEventKey(event('invoice.paid').envelope.id) }))).Item;
    expect(after).toEqual(marker);
  });

  it('keeps an older event out in two round trips, settling it without a notification', async () => {
    await roundTrips('invoice.paid');

    const stale = await roundTrips('invoice.finalized');

    expect(stale.outcome).toBe('processed');
    expect(stale.calls.filter((call) => call !== 'GetItem')).toEqual(['UpdateItem', 'UpdateItem']);
    expect(stale.calls).toHaveLength(2 + readAfterFailedCondition);
    expect(published).toHaveLength(1);
  });

  it('publishes the recorded notification once when the first delivery fails to publish', async () => {
    publishFailures = 1;
    await expect(roundTrips('invoice.payment_failed')).rejects.toThrow('SNS unavailable');

    const retry = await roundTrips('invoice.payment_failed');

    expect(retry.outcome).toBe('processed');
    expect(retry.calls.filter((call) => call !== 'GetItem')).toEqual(['UpdateItem', 'UpdateItem', 'UpdateItem']);
    expect(published.map((n) => n.attributes.type)).toEqual(['payment-failed']);
    expect(await roundTrips('invoice.payment_failed')).toMatchObject({ outcome: 'duplicate' });
    expect(published).toHaveLength(1);
  });
});
