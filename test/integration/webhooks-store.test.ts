import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CLAIM_LEASE_MS, dynamoEventLedger, dynamoInvoiceStore, dynamoSubscriptionStore } from '../../src/store/webhookStore.js';
import { invoiceKey, webhookEventKey } from '../../src/records/keys.js';
import type { InvoiceUpdate, SubscriptionState } from '../../src/webhooks/ports.js';
import { startDynalite, type Dynalite } from '../support/dynalite.js';
import { startMoto, type Moto } from '../support/moto.js';
import { webhookTables } from '../support/webhookTables.js';

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
const claimOf = (eventId: string) => ({ eventId, eventType: 'invoice.paid', eventCreated: 1795000000 });

const update = (overrides: Partial<InvoiceUpdate>): InvoiceUpdate => ({
  invoiceId: 'in_store1',
  stripeCustomerId: 'cus_store1',
  status: 'open',
  statusRank: 1,
  amountDue: 500,
  amountPaid: 0,
  currency: 'usd',
  eventId: 'evt_a',
  eventType: 'invoice.finalized',
  eventCreated: 1795000000,
  ...overrides,
});

const subscription = (overrides: Partial<SubscriptionState>): SubscriptionState => ({
  subscriptionId: 'sub_store1',
  stripeCustomerId: 'cus_store1',
  status: 'active',
  items: [],
  cancelAtPeriodEnd: false,
  lastEventId: 'evt_s1',
  lastEventType: 'customer.subscription.updated',
  lastEventCreated: 1795000000,
  ...overrides,
});

describe.each([
  ['moto', () => moto.endpoint],
  ['dynalite', () => dynalite.endpoint],
])('DynamoDB webhook store on %s', (_name, endpoint) => {
  let documents: DynamoDBDocumentClient;
  let resources: { billingTable: string; subscriptionsTable: string };
  beforeEach(async () => {
    ({ documents, tables: resources } = await webhookTables(endpoint()));
  });
  const get = async (table: string, key: Record<string, string>) =>
    (await documents.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;

  const notification = { subject: 'Paid', message: '{}', attributes: { type: 'payment-succeeded' } };
  const toPublish = { effectApplied: true, notification };

  it('lets one of several concurrent claims on an event win and tells the others it is in progress', async () => {
    const ledger = dynamoEventLedger(documents, resources.billingTable);

    const claims = await Promise.all(Array.from({ length: 5 }, () => ledger.settle(claimOf('evt_race'), toPublish, NOW)));

    expect(claims.filter((claim) => claim.kind === 'claimed')).toHaveLength(1);
    expect(claims.filter((claim) => claim.kind === 'in_progress')).toHaveLength(4);
    const marker = await get(resources.billingTable, webhookEventKey('evt_race'));
    expect(marker).toMatchObject({ status: 'claimed', attempts: 1, notification, expiresAt: Math.floor(NOW / 1000) + 35 * 86400 });
  });

  it('marks an event with nothing to publish done in one write, and answers done after', async () => {
    const ledger = dynamoEventLedger(documents, resources.billingTable);

    expect(await ledger.settle(claimOf('evt_quiet'), { effectApplied: true }, NOW)).toEqual({ kind: 'settled' });
    expect(await ledger.settle(claimOf('evt_quiet'), { effectApplied: false }, NOW + 1000)).toEqual({ kind: 'done' });
    expect(await ledger.settle(claimOf('evt_quiet'), toPublish, NOW + 2000)).toEqual({ kind: 'done' });
    expect(await get(resources.billingTable, webhookEventKey('evt_quiet'))).toMatchObject({ status: 'done', effectApplied: true, attempts: 1 });
  });

  it('answers done for a completed event and hands a released claim over with what it recorded', async () => {
    const ledger = dynamoEventLedger(documents, resources.billingTable);
    const first = await ledger.settle(claimOf('evt_flow'), toPublish, NOW);
    if (first.kind !== 'claimed') throw new Error('expected a claim');
    await ledger.release('evt_flow', first.token);

    // The redelivery found nothing to publish this time (a newer event got in first), yet publishes what was recorded.
    const second = await ledger.settle(claimOf('evt_flow'), { effectApplied: false }, NOW + 1000);
    expect(second).toMatchObject({ kind: 'claimed', recorded: { effectApplied: true, notification } });
    if (second.kind !== 'claimed') throw new Error('expected a claim');
    await expect(ledger.complete('evt_flow', first.token, 'm-1', NOW)).rejects.toThrow(/taken over by another delivery/);
    await ledger.complete('evt_flow', second.token, 'm-2', NOW + 2000);

    expect(await ledger.settle(claimOf('evt_flow'), toPublish, NOW + 3000)).toEqual({ kind: 'done' });
    expect(await get(resources.billingTable, webhookEventKey('evt_flow'))).toMatchObject({ status: 'done', messageId: 'm-2', attempts: 2 });
  });

  it('takes over a claim only after its lease ran out', async () => {
    const ledger = dynamoEventLedger(documents, resources.billingTable);
    await ledger.settle(claimOf('evt_dead'), toPublish, NOW);

    expect(await ledger.settle(claimOf('evt_dead'), toPublish, NOW + CLAIM_LEASE_MS - 1)).toEqual({ kind: 'in_progress' });
    expect((await ledger.settle(claimOf('evt_dead'), toPublish, NOW + CLAIM_LEASE_MS + 1)).kind).toBe('claimed');
  });

  it('moves an invoice forward only, and reports the status it had before or keeps', async () => {
    const invoices = dynamoInvoiceStore(documents, resources.billingTable);

    expect(await invoices.applyInvoiceUpdate(update({}), NOW)).toEqual({ applied: true });
    expect(
      await invoices.applyInvoiceUpdate(update({ status: 'paid', statusRank: 5, amountPaid: 500, eventId: 'evt_c', eventCreated: 1795000300 }), NOW),
    ).toEqual({
      applied: true,
      previous: { status: 'open', lastEventId: 'evt_a' },
    });
    expect(await invoices.applyInvoiceUpdate(update({ status: 'payment_failed', statusRank: 2, eventId: 'evt_b', eventCreated: 1795000600 }), NOW)).toEqual({
      applied: false,
      stored: { status: 'paid' },
    });
    // The same event again is a repeat, not a regression: it applies (idempotently) so a retry can finish.
    expect(
      (await invoices.applyInvoiceUpdate(update({ status: 'paid', statusRank: 5, amountPaid: 500, eventId: 'evt_c', eventCreated: 1795000300 }), NOW)).applied,
    ).toBe(true);

    expect(await get(resources.billingTable, invoiceKey('in_store1'))).toMatchObject({
      status: 'paid',
      statusRank: 5,
      amountPaid: 500,
      lastEventId: 'evt_c',
      recordType: 'invoice',
      sk: 'INVOICE',
    });
  });

  it('applies a newer event of the same status rank but not an older one', async () => {
    const invoices = dynamoInvoiceStore(documents, resources.billingTable);
    await invoices.applyInvoiceUpdate(update({ status: 'payment_failed', statusRank: 2, eventId: 'evt_f2', eventCreated: 1795000600, amountDue: 700 }), NOW);

    expect(
      (await invoices.applyInvoiceUpdate(update({ status: 'payment_failed', statusRank: 2, eventId: 'evt_f1', eventCreated: 1795000500 }), NOW)).applied,
    ).toBe(false);
    expect(
      (await invoices.applyInvoiceUpdate(update({ status: 'payment_failed', statusRank: 2, eventId: 'evt_f3', eventCreated: 1795000700, amountDue: 900 }), NOW))
        .applied,
    ).toBe(true);
    expect(await get(resources.billingTable, invoiceKey('in_store1'))).toMatchObject({ amountDue: 900, lastEventId: 'evt_f3' });
  });

  it('replaces a subscription snapshot only with one from a newer event, ties broken by event id', async () => {
    const subscriptions = dynamoSubscriptionStore(documents, resources.subscriptionsTable);

    expect(await subscriptions.upsertSubscription(subscription({ lastEventId: 'evt_s5', lastEventCreated: 1795000500, status: 'past_due' }), NOW)).toEqual({
      applied: true,
    });
    expect(await subscriptions.upsertSubscription(subscription({ lastEventId: 'evt_s4', lastEventCreated: 1795000400, status: 'active' }), NOW)).toEqual({
      applied: false,
    });
    expect(await subscriptions.upsertSubscription(subscription({ lastEventId: 'evt_s4', lastEventCreated: 1795000500, status: 'active' }), NOW)).toEqual({
      applied: false,
    });
    expect(await subscriptions.upsertSubscription(subscription({ lastEventId: 'evt_s6', lastEventCreated: 1795000500, status: 'canceled' }), NOW)).toEqual({
      applied: true,
    });

    expect(await get(resources.subscriptionsTable, { subscriptionId: 'sub_store1' })).toMatchObject({
      status: 'canceled',
      lastEventId: 'evt_s6',
      recordType: 'subscription',
    });
  });
});
