import { describe, expect, it } from 'vitest';
import { ConditionalCheckFailedException, ProvisionedThroughputExceededException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { claim, conditionHeld, type ClaimWrite } from '../../../src/store/claim.js';

const metadata = { $metadata: {} };
const KEY = { pk: 'LEDGER#acme#2026-11', sk: 'ENTRY#overage' };
const ITEM = { ...KEY, status: 'pending', amountMinor: 9800 };
const MARSHALLED = { pk: { S: KEY.pk }, sk: { S: KEY.sk }, status: { S: 'pending' }, amountMinor: { N: '9800' } };

/** A document client whose first `send` answers with `outcome` (thrown when an Error) and whose GetItem finds `stored`. */
function fakeDynamo(outcome: unknown, stored?: Record<string, unknown>) {
  const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
  const dynamo = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: command.constructor.name, input: command.input });
      if (command.constructor.name === 'GetCommand') return { Item: stored };
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  } as unknown as DynamoDBDocumentClient;
  return { dynamo, sent };
}

const put: ClaimWrite = { put: { TableName: 'billing', Item: ITEM, ConditionExpression: 'attribute_not_exists(pk)' }, key: KEY };
const transaction: ClaimWrite = {
  transaction: [
    { Put: { TableName: 'billing', Item: ITEM, ConditionExpression: 'attribute_not_exists(pk)' } },
    { Update: { TableName: 'billing', Key: { pk: KEY.pk, sk: 'HEAD' }, UpdateExpression: 'SET version = :one', ConditionExpression: 'version = :zero' } },
  ],
  claimed: 0,
  key: KEY,
};
const cancelled = (...reasons: Array<{ Code: string; Item?: Record<string, unknown> }>) =>
  new TransactionCanceledException({ message: 'Transaction cancelled', ...metadata, CancellationReasons: reasons as never });

describe('claim: one conditional write says who won and what it lost to', () => {
  it('wins with the attributes the write returned, asking for the item on a failed condition', async () => {
    const { dynamo, sent } = fakeDynamo({ Attributes: { status: 'claimed' } });
    expect(await claim(dynamo, { update: { TableName: 'billing', Key: KEY, UpdateExpression: 'SET #s = :c' } })).toEqual({
      won: true,
      attributes: { status: 'claimed' },
    });
    expect(sent).toEqual([{ name: 'UpdateCommand', input: expect.objectContaining({ ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }) }]);
  });

  it('loses a plain condition with the item the service sent back, in one request', async () => {
    const { dynamo, sent } = fakeDynamo(new ConditionalCheckFailedException({ message: 'failed', ...metadata, Item: MARSHALLED as never }));
    expect(await claim(dynamo, put, { readWhenLeftOut: true })).toEqual({ won: false, existing: ITEM });
    expect(sent.map((s) => s.name)).toEqual(['PutCommand']);
    expect(sent[0]!.input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  it('reads the item when the service left it out of a failed condition, and only if asked', async () => {
    const failed = () => new ConditionalCheckFailedException({ message: 'failed', ...metadata });
    const asked = fakeDynamo(failed(), ITEM);
    expect(await claim(asked.dynamo, put, { readWhenLeftOut: true })).toEqual({ won: false, existing: ITEM });
    expect(asked.sent.map((s) => [s.name, s.input.Key, s.input.ConsistentRead])).toEqual([
      ['PutCommand', undefined, undefined],
      ['GetCommand', KEY, true],
    ]);
    const notAsked = fakeDynamo(failed(), ITEM);
    expect(await claim(notAsked.dynamo, put)).toEqual({ won: false, existing: undefined });
    expect(notAsked.sent.map((s) => s.name)).toEqual(['PutCommand']);
  });

  it('asks for the item on the claimed item of a transaction only, and loses with it from the cancellation reasons', async () => {
    const { dynamo, sent } = fakeDynamo(cancelled({ Code: 'ConditionalCheckFailed', Item: MARSHALLED }, { Code: 'None' }));
    expect(await claim(dynamo, transaction, { readWhenLeftOut: true })).toEqual({ won: false, existing: ITEM });
    const items = (sent[0]!.input as { TransactItems: Array<Record<string, Record<string, unknown>>> }).TransactItems;
    expect(items.map((item) => Object.values(item)[0]!.ReturnValuesOnConditionCheckFailure)).toEqual(['ALL_OLD', undefined]);
    expect(sent).toHaveLength(1);
  });

  it("loses a transaction cancelled by another item's condition with nothing to return and no read", async () => {
    const { dynamo, sent } = fakeDynamo(cancelled({ Code: 'None' }, { Code: 'ConditionalCheckFailed' }), ITEM);
    expect(await claim(dynamo, transaction, { readWhenLeftOut: true })).toEqual({ won: false, existing: undefined });
    expect(sent).toHaveLength(1);
  });

  it('reads the claimed item when a transaction lost without it: the reason carried none, or a concurrent transaction won', async () => {
    for (const reasons of [
      [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
      [{ Code: 'TransactionConflict' }, { Code: 'None' }],
      [{ Code: 'None' }, { Code: 'TransactionConflict' }],
    ]) {
      const { dynamo, sent } = fakeDynamo(cancelled(...reasons), ITEM);
      expect(await claim(dynamo, transaction, { readWhenLeftOut: true })).toEqual({ won: false, existing: ITEM });
      expect(sent.map((s) => [s.name, s.input.Key])).toEqual([
        ['TransactWriteCommand', undefined],
        ['GetCommand', KEY],
      ]);
    }
  });

  it('throws any other error: throttling, a transaction cancelled for another reason, a validation error', async () => {
    const errors = [
      new ProvisionedThroughputExceededException({ message: 'slow down', ...metadata }),
      cancelled({ Code: 'ThrottlingError' }, { Code: 'None' }),
      Object.assign(new Error('One or more parameter values were invalid'), { name: 'ValidationException' }),
    ];
    for (const error of errors) {
      const { dynamo, sent } = fakeDynamo(error, ITEM);
      await expect(claim(dynamo, transaction, { readWhenLeftOut: true })).rejects.toBe(error);
      await expect(conditionHeld(dynamo, put)).rejects.toBe(error);
      expect(sent.map((s) => s.name)).toEqual(['TransactWriteCommand', 'PutCommand']);
    }
  });

  it('conditionHeld: true when written, false when lost, never reading', async () => {
    expect(await conditionHeld(fakeDynamo({}).dynamo, put)).toBe(true);
    const lost = fakeDynamo(new ConditionalCheckFailedException({ message: 'failed', ...metadata }), ITEM);
    expect(await conditionHeld(lost.dynamo, put)).toBe(false);
    expect(lost.sent.map((s) => s.name)).toEqual(['PutCommand']);
  });
});
