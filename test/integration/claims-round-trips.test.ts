import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dispatchAlerts, type DispatchOptions } from '../../src/alerts/dispatch.js';
import type { BudgetAlert } from '../../src/alerts/evaluate.js';
import type { LedgerEntry } from '../../src/billing/types.js';
import type { Notification } from '../../src/notifications.js';
import { webhookEventKey } from '../../src/records/keys.js';
import { dynamoAlertMarkers, STALE_CLAIM_MS } from '../../src/store/alertMarkers.js';
import { dynamoLedger } from '../../src/store/ledger.js';
import { CLAIM_LEASE_MS, dynamoEventLedger } from '../../src/store/webhookStore.js';
import { budgetAlert } from '../support/alerts.js';
import { acmeOverageEntry, createBillingTable, documentClient, scanTable } from '../support/billing.js';
import { startDynalite, type Dynalite } from '../support/dynalite.js';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy.js';
import { startMoto, type Moto } from '../support/moto.js';

// DynamoDB requests of the three claim protocols, counted as HTTP requests through a proxy in front of the emulator.
const TABLE = 'billing-claims';
let moto: Moto;
let dynalite: Dynalite;
beforeAll(async () => {
  [moto, dynalite] = await Promise.all([startMoto(), startDynalite()]);
});
afterAll(async () => {
  await Promise.all([moto?.stop(), dynalite?.stop()]);
});

interface Counted {
  readonly dynamo: DynamoDBDocumentClient;
  readonly table: string;
  /** The DynamoDB operations sent since the last call, in order. */
  requests(): string[];
}

let proxy: FaultProxy | undefined;
let tables = 0;
beforeEach(async () => {
  await moto.reset();
  return async () => {
    await proxy?.stop();
    proxy = undefined;
  };
});

/** A fresh billing table behind a proxy that counts requests (dynalite is not reset: each test has its own table). */
async function countedTable(endpoint: string): Promise<Counted> {
  proxy = await startFaultProxy(endpoint);
  let calls: string[] = [];
  proxy.failWhen((call) => (calls.push(call.target.replace('DynamoDB_20120810.', '')), false));
  const dynamo = documentClient(proxy.endpoint);
  const table = `${TABLE}-${++tables}`;
  await createBillingTable(dynamo, table);
  calls = [];
  return {
    dynamo,
    table,
    requests() {
      const sent = calls;
      calls = [];
      return sent;
    },
  };
}

describe('a lost claim costs one request on moto, which answers with the item it lost to', () => {
  let counted: Counted;
  let table: string;
  beforeEach(async () => {
    counted = await countedTable(moto.endpoint);
    table = counted.table;
  });

  it('a lost ledger reservation returns the existing entry in one TransactWriteItems, with no GetItem', async () => {
    const ledger = dynamoLedger(counted.dynamo, table);
    expect(await ledger.reserve(acmeOverageEntry, 0)).toEqual({ reserved: true, version: 1 });
    expect(counted.requests()).toEqual(['TransactWriteItems']);

    expect(await ledger.reserve(acmeOverageEntry, 0)).toEqual({ reserved: false, existing: acmeOverageEntry });
    expect(counted.requests()).toEqual(['TransactWriteItems']);
    // Planned on the current version, the entry's own condition still fails: the answer still carries the entry.
    expect(await ledger.reserve(acmeOverageEntry, 1)).toEqual({ reserved: false, existing: acmeOverageEntry });
    expect(counted.requests()).toEqual(['TransactWriteItems']);
  });

  it('a reservation lost to another entry on the same ledger version says so in one request, with no entry to return', async () => {
    const ledger = dynamoLedger(counted.dynamo, table);
    await ledger.reserve(acmeOverageEntry, 0);
    counted.requests();
    const nextDay: LedgerEntry = { ...acmeOverageEntry, entryId: 'overage-2026-11-11' };
    expect(await ledger.reserve(nextDay, 0)).toEqual({ reserved: false });
    expect(counted.requests()).toEqual(['TransactWriteItems']);
  });

  it('a lost fixed-charge reservation returns the existing entry in one PutItem', async () => {
    const ledger = dynamoLedger(counted.dynamo, table);
    const fixed: LedgerEntry = { ...acmeOverageEntry, entryId: 'fixed-3f9a0c', kind: 'fixed', amountMinor: 5000, description: 'Onboarding' };
    await ledger.reserve(fixed, 0);
    counted.requests();
    expect(await ledger.reserve(fixed, 0)).toEqual({ reserved: false, existing: fixed });
    expect(counted.requests()).toEqual(['PutItem']);
  });

  it('a lost alert claim makes one request', async () => {
    const markers = dynamoAlertMarkers(counted.dynamo, table);
    expect(await markers.claim(alert('acme'), NOW)).toBeDefined();
    counted.requests();
    expect(await markers.claim(alert('acme'), NOW)).toBeUndefined();
    expect(counted.requests()).toEqual(['PutItem']);
  });

  it('a lost webhook claim makes one request, whether the event is done or its lease still runs', async () => {
    const events = dynamoEventLedger(counted.dynamo, table);
    const request = { eventId: 'evt_claims1', eventType: 'invoice.paid', eventCreated: 1_763_640_000 };
    const recorded = { effectApplied: true, notification: { subject: 's', message: 'm', attributes: { type: 'payment-succeeded' } } };
    const claimed = await events.settle(request, recorded, NOW.getTime());
    expect(claimed.kind).toBe('claimed');
    counted.requests();

    expect(await events.settle(request, recorded, NOW.getTime() + CLAIM_LEASE_MS - 1)).toEqual({ kind: 'in_progress' });
    expect(counted.requests()).toEqual(['UpdateItem']);
    await events.complete(request.eventId, (claimed as { token: string }).token, 'm-1', NOW.getTime());
    counted.requests();
    expect(await events.settle(request, recorded, NOW.getTime())).toEqual({ kind: 'done' });
    expect(counted.requests()).toEqual(['UpdateItem']);
  });

  it('a webhook claim whose lease ran out is taken over in one request, with the notification it recorded', async () => {
    const events = dynamoEventLedger(counted.dynamo, table);
    const request = { eventId: 'evt_claims2', eventType: 'invoice.payment_failed', eventCreated: 1_763_640_000 };
    const first = { effectApplied: true, notification: { subject: 'first', message: 'm', attributes: { type: 'payment-failed' } } };
    await events.settle(request, first, NOW.getTime());
    counted.requests();
    const second = { effectApplied: false, notification: { subject: 'second', message: 'm', attributes: { type: 'payment-failed' } } };
    const takeover = await events.settle(request, second, NOW.getTime() + CLAIM_LEASE_MS + 1);
    expect(takeover).toMatchObject({ kind: 'claimed', recorded: first });
    expect(counted.requests()).toEqual(['UpdateItem']);
    const [marker] = await scanTable(counted.dynamo, table);
    expect(marker).toMatchObject({ ...webhookEventKey(request.eventId), status: 'claimed', attempts: 2 });
  });
});

const NOW = new Date('2026-11-15T06:00:00Z');

function alert(scope: string, level = 80): BudgetAlert {
  return budgetAlert({ scope, scopeName: scope, level });
}

describe.each([
  ['moto', () => moto.endpoint],
  ['dynalite', () => dynalite.endpoint],
])('first run with new alerts on %s', (_name, endpoint) => {
  let counted: Counted;
  let table: string;
  let published: Notification[];
  let failing: Set<string>;
  let options: (now: Date) => DispatchOptions;

  beforeEach(async () => {
    counted = await countedTable(endpoint());
    table = counted.table;
    published = [];
    failing = new Set();
    const markers = dynamoAlertMarkers(counted.dynamo, table);
    options = (now) => ({
      markers,
      dryRun: false,
      now,
      publish: async (notification) => {
        if (failing.has(notification.attributes.customer!)) throw new Error('SNS unavailable');
        published.push(notification);
        return { messageId: `m-${published.length}` };
      },
    });
  });

  const alerts = Array.from({ length: 60 }, (_, i) => alert(`c${i}`));
  const tally = (requests: string[]) => requests.reduce<Record<string, number>>((counts, op) => ({ ...counts, [op]: (counts[op] ?? 0) + 1 }), {});

  it('sends 60 new alerts in 64 requests (a Query, a claim each, 3 batch writes), then reads one Query on a re-run', async () => {
    const first = await dispatchAlerts(alerts, options(NOW));
    expect(first.every((outcome) => outcome.status === 'sent')).toBe(true);
    expect(tally(counted.requests())).toEqual({ Query: 1, PutItem: 60, BatchWriteItem: 3 });
    const items = await scanTable(counted.dynamo, table);
    expect(items).toHaveLength(60);
    expect(items.every((item) => item.status === 'sent' && typeof item.messageId === 'string' && item.claimedAt === NOW.toISOString())).toBe(true);
    counted.requests();

    const again = await dispatchAlerts(alerts, options(new Date(NOW.getTime() + 3_600_000)));
    expect(again.every((outcome) => outcome.status === 'already-sent')).toBe(true);
    expect(counted.requests()).toEqual(['Query']);
    expect(published).toHaveLength(60);
  });

  it('takes over a claim left by a crash between claim and publish once it is stale, not before', async () => {
    const crashed = dynamoAlertMarkers(counted.dynamo, table);
    expect(await crashed.claim(alerts[0]!, NOW)).toBeDefined();
    counted.requests();

    const soon = await dispatchAlerts(alerts.slice(0, 2), options(new Date(NOW.getTime() + STALE_CLAIM_MS - 1000)));
    expect(soon.map((outcome) => outcome.status)).toEqual(['already-sent', 'sent']);
    expect(tally(counted.requests())).toEqual({ Query: 1, PutItem: 2, BatchWriteItem: 1 });

    const later = await dispatchAlerts(alerts.slice(0, 2), options(new Date(NOW.getTime() + STALE_CLAIM_MS + 1000)));
    expect(later.map((outcome) => outcome.status)).toEqual(['sent', 'already-sent']);
    expect(tally(counted.requests())).toEqual({ Query: 1, PutItem: 1, BatchWriteItem: 1 });
    expect(published.map((n) => n.attributes.customer)).toEqual(['c1', 'c0']);
  });

  it('gives the claim of a failed publish back and sends it on the next run', async () => {
    failing.add('c1');
    const first = await dispatchAlerts(alerts.slice(0, 3), options(NOW));
    expect(first.map((outcome) => outcome.status)).toEqual(['sent', 'failed', 'sent']);
    expect(tally(counted.requests())).toEqual({ Query: 1, PutItem: 3, DeleteItem: 1, BatchWriteItem: 1 });
    expect((await scanTable(counted.dynamo, table)).map((item) => `${item.sk} ${item.status}`).sort()).toEqual(['c0#actual#80 sent', 'c2#actual#80 sent']);

    failing.clear();
    const retried = await dispatchAlerts(alerts.slice(0, 3), options(new Date(NOW.getTime() + 60_000)));
    expect(retried.map((outcome) => outcome.status)).toEqual(['already-sent', 'sent', 'already-sent']);
    // The first run publishes c0 and c2 concurrently, in either order; the retry publishes only c1.
    const customers = published.map((n) => n.attributes.customer);
    expect([...customers.slice(0, 2).sort(), customers[2]]).toEqual(['c0', 'c2', 'c1']);
    expect(customers).toHaveLength(3);
  });

  it('sends each alert once when three runs overlap', async () => {
    const runs = await Promise.all([1, 2, 3].map(() => dispatchAlerts(alerts.slice(0, 30), options(NOW))));
    expect(runs.flat().filter((outcome) => outcome.status === 'sent')).toHaveLength(30);
    expect(new Set(published.map((n) => n.attributes.customer)).size).toBe(30);
    expect(published).toHaveLength(30);
  });
});

describe('recording sent alerts when DynamoDB leaves some unprocessed', () => {
  it('writes the unprocessed markers again after a back-off, until none is left', async () => {
    const batches: number[] = [];
    const sleeps: number[] = [];
    const fake = {
      send: async (command: { input: { RequestItems: Record<string, unknown[]> } }) => {
        const puts = command.input.RequestItems[TABLE]!;
        batches.push(puts.length);
        return { UnprocessedItems: puts.length > 10 ? { [TABLE]: puts.slice(10) } : {} };
      },
    } as unknown as DynamoDBDocumentClient;
    const markers = dynamoAlertMarkers(fake, TABLE, { sleep: async (ms) => void sleeps.push(ms) });
    const sent = Array.from({ length: 30 }, (_, i) => ({ alert: alert(`c${i}`), claim: { token: `t${i}`, claimedAt: NOW.toISOString() }, messageId: `m${i}` }));
    await markers.markSent(sent, NOW);
    // 30 alerts: a batch of 25 (10 processed, then 10, then the last 5) and a batch of 5.
    expect(batches).toEqual([25, 15, 5, 5]);
    expect(sleeps).toHaveLength(2);
  });

  it('fails naming the table and what is left when the writes stay unprocessed', async () => {
    const fake = {
      send: async (command: { input: { RequestItems: Record<string, unknown[]> } }) => ({ UnprocessedItems: command.input.RequestItems }),
    } as unknown as DynamoDBDocumentClient;
    const markers = dynamoAlertMarkers(fake, TABLE, { sleep: async () => undefined });
    const sent = [{ alert: alert('c0'), claim: { token: 't0', claimedAt: NOW.toISOString() }, messageId: 'm0' }];
    await expect(markers.markSent(sent, NOW)).rejects.toThrow(`Could not record 1 published alerts as sent in the billing table ${TABLE}`);
  });
});
