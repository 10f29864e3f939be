import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { invoiceRecord } from '../../src/billing/records.js';
import type { LedgerEntry } from '../../src/billing/types.js';
import { invoiceKey, ledgerHeadKey } from '../../src/records/keys.js';
import { dynamoLedger } from '../../src/store/ledger.js';
import { acmeOverageEntry, scanTable, useBillingServices } from '../support/billing.js';

const TABLE = 'billing-ledger';
const services = useBillingServices(TABLE, []);

const entry = acmeOverageEntry;
const at = new Date('2026-11-10T07:01:00Z');

describe('dynamoLedger', () => {
  it('lets exactly one of many concurrent runs reserve an entry', async () => {
    const ledger = dynamoLedger(services.dynamo, TABLE);
    const results = await Promise.all(Array.from({ length: 5 }, () => ledger.reserve(entry, 0)));
    expect(results.filter((result) => result.reserved)).toHaveLength(1);
    for (const result of results) if (!result.reserved) expect(result.existing).toMatchObject({ entryId: entry.entryId, status: 'pending' });
    expect(await ledger.read('acme', '2026-11')).toEqual({ entries: [entry], version: 1 });
  });

  it('lets exactly one of concurrent runs reserve the same fixed charge, which has no head version to guard it', async () => {
    const ledger = dynamoLedger(services.dynamo, TABLE);
    const fixed: LedgerEntry = { ...entry, entryId: 'fixed-3f9a0c', kind: 'fixed', amountMinor: 5000, description: 'Onboarding' };
    const results = await Promise.all(Array.from({ length: 4 }, () => ledger.reserve(fixed, 0)));
    expect(results.filter((result) => result.reserved)).toHaveLength(1);
    for (const result of results) if (!result.reserved) expect(result.existing).toMatchObject({ entryId: 'fixed-3f9a0c', status: 'pending' });
    await ledger.complete(fixed, { invoiceId: 'in_fixed' }, at);
    // A later run (the same workflow re-run) finds the completed charge instead of writing over it.
    expect(await ledger.reserve(fixed, 0)).toEqual({
      reserved: false,
      existing: { ...fixed, status: 'completed', completedAt: at.toISOString(), invoiceId: 'in_fixed' },
    });
    expect(await ledger.read('acme', '2026-11')).toEqual({
      entries: [{ ...fixed, status: 'completed', completedAt: at.toISOString(), invoiceId: 'in_fixed' }],
      version: 0,
    });
  });

  it('reserves only one of two entries with different ids planned on the same ledger version', async () => {
    const ledger = dynamoLedger(services.dynamo, TABLE);
    const nextDay: LedgerEntry = { ...entry, entryId: 'overage-2026-11-11', reservedAt: '2026-11-11T00:00:01.000Z' };
    const results = await Promise.all([ledger.reserve(entry, 0), ledger.reserve(nextDay, 0)]);
    expect(results.filter((result) => result.reserved)).toHaveLength(1);
    expect(results.find((result) => !result.reserved)).toEqual({ reserved: false });
    const state = await ledger.read('acme', '2026-11');
    expect(state.entries).toHaveLength(1);
    expect(state.version).toBe(1);
    const [head] = (await scanTable(services.dynamo, TABLE)).filter((item) => item.sk === 'HEAD');
    expect(head).toMatchObject({ billedMinor: 9800, version: 1 });
    const loser = results[0]?.reserved ? nextDay : entry;
    expect(await ledger.reserve({ ...loser, amountMinor: 100 }, 0)).toEqual({ reserved: false });
    expect(await ledger.reserve({ ...loser, amountMinor: 100 }, 1)).toEqual({ reserved: true, version: 2 });
  });

  it('rolls the ledger head back when it releases a pending entry', async () => {
    const ledger = dynamoLedger(services.dynamo, TABLE);
    await ledger.reserve(entry, 0);
    await ledger.release(entry);
    const [head] = await scanTable(services.dynamo, TABLE);
    expect(head).toMatchObject({ sk: 'HEAD', billedMinor: 0, version: 2 });
    expect(await ledger.read('acme', '2026-11')).toEqual({ entries: [], version: 2 });
  });

  it('keeps a pending entry and fails when its release cannot roll the head back', async () => {
    const ledger = dynamoLedger(services.dynamo, TABLE);
    await ledger.reserve(entry, 0);
    await services.dynamo.send(new DeleteCommand({ TableName: TABLE, Key: ledgerHeadKey('acme', '2026-11') }));

    await expect(ledger.release(entry)).rejects.toThrow();
    expect((await ledger.read('acme', '2026-11')).entries).toMatchObject([{ entryId: entry.entryId, status: 'pending' }]);
  });

  it('completes a pending entry once and never releases a completed one', async () => {
    const ledger = dynamoLedger(services.dynamo, TABLE);
    await ledger.reserve(entry, 0);
    expect(await Promise.all([ledger.complete(entry, { invoiceId: 'in_1' }, at), ledger.complete(entry, { invoiceId: 'in_1' }, at)])).toEqual(
      expect.arrayContaining([true, false]),
    );
    await ledger.release(entry);
    expect((await ledger.read('acme', '2026-11')).entries).toMatchObject([{ status: 'completed', invoiceId: 'in_1', completedAt: at.toISOString() }]);
  });

  it('releases a pending entry', async () => {
    const ledger = dynamoLedger(services.dynamo, TABLE);
    await ledger.reserve(entry, 0);
    await ledger.release(entry);
    expect((await ledger.read('acme', '2026-11')).entries).toEqual([]);
  });

  it('never sets back an invoice record the webhook handler has moved forward, but fills in what only billing knows', async () => {
    const ledger = dynamoLedger(services.dynamo, TABLE);
    await services.dynamo.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          ...invoiceKey('in_1'),
          recordType: 'invoice',
          invoiceId: 'in_1',
          stripeCustomerId: 'cus_acme0001',
          amountDue: 9800,
          currency: 'usd',
          status: 'paid',
          statusRank: 5,
          createdAt: '2026-11-10T07:00:30.000Z',
          updatedAt: '2026-11-10T07:00:30.000Z',
          lastEventCreated: 1_794_000_000,
        },
      }),
    );
    await ledger.recordInvoice(
      invoiceRecord(entry, { invoiceId: 'in_1', status: 'open', hostedInvoiceUrl: 'https://invoice.stripe.com/i/x', amountDue: 9800, currency: 'usd' }, at),
    );
    const [record] = await scanTable(services.dynamo, TABLE);
    expect(record).toMatchObject({
      status: 'paid',
      statusRank: 5,
      lastEventCreated: 1_794_000_000,
      customerId: 'acme',
      period: '2026-11',
      ledgerEntry: 'acme/2026-11/overage-2026-11-10',
      createdAt: '2026-11-10T07:00:30.000Z',
      gsi1pk: 'CUSTOMER#acme',
    });
  });

  it('names the missing billing table and what to do', async () => {
    const ledger = dynamoLedger(services.dynamo, 'no-such-table');
    await expect(ledger.read('acme', '2026-11')).rejects.toMatchObject({
      message: expect.stringContaining('the billing table no-such-table does not exist'),
      hint: expect.stringContaining('billing-table'),
    });
  });
});
