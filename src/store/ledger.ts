import {
  DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { EntryResult, LedgerEntry, LedgerPort } from '../billing/types.js';
import { ServiceError } from '../errors.js';
import { ledgerEntryKey, ledgerPartition } from './keys.js';
import type { InvoiceRecord, LedgerEntryRecord } from './records.js';
import { isConditionFailure } from './conditions.js';

/** The billing ledger in the billing table: conditional writes make every entry reserved and completed once. */
export function dynamoLedger(dynamo: DynamoDBDocumentClient, tableName: string): LedgerPort {
  const call = <T>(what: string, operation: () => Promise<T>) => withTableErrors(tableName, what, operation);

  return {
    entries: (customerId, period) =>
      call('read the ledger', async () => {
        const items: LedgerEntryRecord[] = [];
        let startKey: Record<string, unknown> | undefined;
        do {
          const page = await dynamo.send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :entry)',
              ExpressionAttributeValues: { ':pk': ledgerPartition(customerId, period), ':entry': 'ENTRY#' },
              ConsistentRead: true,
              ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            }),
          );
          items.push(...((page.Items ?? []) as LedgerEntryRecord[]));
          startKey = page.LastEvaluatedKey;
        } while (startKey);
        return items.map(toEntry);
      }),

    reserve: (entry) =>
      call('reserve a ledger entry', async () => {
        try {
          await dynamo.send(new PutCommand({ TableName: tableName, Item: toRecord(entry), ConditionExpression: 'attribute_not_exists(pk)' }));
          return { reserved: true as const };
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
          const existing = await dynamo.send(new GetCommand({ TableName: tableName, Key: keyOf(entry), ConsistentRead: true }));
          return { reserved: false as const, existing: toEntry(existing.Item as LedgerEntryRecord) };
        }
      }),

    complete: (entry, result, at) =>
      call('complete a ledger entry', async () => {
        const fields: Record<string, unknown> = { ':completed': 'completed', ':pending': 'pending', ':at': at.toISOString() };
        const sets = ['#status = :completed', 'completedAt = :at'];
        for (const [name, value] of Object.entries(result) as Array<[keyof EntryResult, string | undefined]>) {
          if (value === undefined) continue;
          sets.push(`${name} = :${name}`);
          fields[`:${name}`] = value;
        }
        try {
          await dynamo.send(
            new UpdateCommand({
              TableName: tableName,
              Key: keyOf(entry),
              UpdateExpression: `SET ${sets.join(', ')}`,
              ConditionExpression: '#status = :pending',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: fields,
            }),
          );
          return true;
        } catch (error) {
          if (isConditionFailure(error)) return false;
          throw error;
        }
      }),

    release: (entry) =>
      call('release a ledger entry', async () => {
        try {
          await dynamo.send(
            new DeleteCommand({
              TableName: tableName,
              Key: keyOf(entry),
              ConditionExpression: '#status = :pending',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':pending': 'pending' },
            }),
          );
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }),

    recordInvoice: (record) => call('write the invoice record', () => writeInvoiceRecord(dynamo, tableName, record)),
  };
}

/**
 * The webhook handler may have moved the record on already (paid, say): status and statusRank only move forward,
 * and the fields only this action knows (customer, period, ledger entry) are filled in either way.
 */
async function writeInvoiceRecord(dynamo: DynamoDBDocumentClient, tableName: string, record: InvoiceRecord): Promise<void> {
  const { pk, sk, status, statusRank, createdAt, ...described } = record;
  const describe = (extra: Record<string, unknown>) => {
    const values = { ...described, ...extra };
    const names = Object.keys(values);
    return {
      UpdateExpression: `SET ${names.map((name) => `#${name} = :${name}`).join(', ')}, #createdAt = if_not_exists(#createdAt, :createdAt)`,
      ExpressionAttributeNames: Object.fromEntries([...names, 'createdAt'].map((name) => [`#${name}`, name])),
      ExpressionAttributeValues: { ...Object.fromEntries(Object.entries(values).map(([name, value]) => [`:${name}`, value])), ':createdAt': createdAt },
    };
  };
  try {
    const update = describe({ status, statusRank });
    await dynamo.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk, sk },
        ...update,
        ConditionExpression: 'attribute_not_exists(pk) OR #statusRank <= :statusRank',
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    await dynamo.send(new UpdateCommand({ TableName: tableName, Key: { pk, sk }, ...describe({}) }));
  }
}

function keyOf(entry: Pick<LedgerEntry, 'customerId' | 'period' | 'entryId'>) {
  return ledgerEntryKey(entry.customerId, entry.period, entry.entryId);
}

function toRecord(entry: LedgerEntry): LedgerEntryRecord {
  return { ...keyOf(entry), recordType: 'ledger', ...entry };
}

function toEntry(record: LedgerEntryRecord): LedgerEntry {
  const entry: Record<string, unknown> = { ...record };
  for (const storageField of ['pk', 'sk', 'recordType']) delete entry[storageField];
  return entry as unknown as LedgerEntry;
}


async function withTableErrors<T>(tableName: string, what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'ResourceNotFoundException') {
      throw new ServiceError(`Could not ${what}: the billing table ${tableName} does not exist`, 'Deploy the stack that creates it, or set the billing-table input to its name', { cause: error });
    }
    if (name === 'AccessDeniedException') {
      throw new ServiceError(`Could not ${what}: access to the billing table ${tableName} was denied`, 'Grant the role dynamodb:Query, GetItem, PutItem, UpdateItem and DeleteItem on the table', { cause: error });
    }
    throw error;
  }
}
