import { DeleteCommand, GetCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EntryResult, LedgerEntry, LedgerPort } from '../billing/types.js';
import { ServiceError } from '../errors.js';
import { invoiceKey, ledgerEntryKey, ledgerHeadKey, ledgerPartition } from '../records/keys.js';
import { countsTowardsOverage, type InvoiceRecord, type LedgerEntryRecord, type LedgerHeadRecord } from '../records/schema.js';
import { claim, conditionHeld, isConditionFailure, transactionItemFailedCondition, type ClaimWrite } from './claim.js';
import { queryAll } from './query.js';

/** The billing ledger in the billing table: conditional writes make every entry reserved and completed once. */
export function dynamoLedger(dynamo: DynamoDBDocumentClient, tableName: string): LedgerPort {
  const call = <T>(what: string, operation: () => Promise<T>) => withTableErrors(tableName, what, operation);

  return {
    read: (customerId, period) =>
      call('read the ledger', async () => {
        const items = await queryAll<LedgerEntryRecord | LedgerHeadRecord>(dynamo, {
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': ledgerPartition(customerId, period) },
          ConsistentRead: true,
        });
        const head = items.find((item): item is LedgerHeadRecord => item.recordType === 'ledgerHead');
        const entries = items.filter((item): item is LedgerEntryRecord => item.recordType === 'ledger').map(toEntry);
        return { entries, version: head?.version ?? 0 };
      }),

    reserve: (entry, version) =>
      call('reserve a ledger entry', async () => {
        const put = { TableName: tableName, Item: toRecord(entry), ConditionExpression: 'attribute_not_exists(pk)' };
        // A fixed charge is separate from the overage: its own entry id is all that keeps it single.
        const movesHead = countsTowardsOverage(entry.kind);
        const write: ClaimWrite = movesHead
          ? { transaction: [{ Put: put }, { Update: moveHead(tableName, entry, version, entry.amountMinor) }], claimed: 0, key: keyOf(entry) }
          : { put, key: keyOf(entry) };
        const outcome = await claim<LedgerEntryRecord>(dynamo, write, { readWhenLeftOut: true });
        if (outcome.won) return { reserved: true as const, version: movesHead ? version + 1 : version };
        return outcome.existing ? { reserved: false as const, existing: toEntry(outcome.existing) } : { reserved: false as const };
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
        return conditionHeld(dynamo, {
          update: {
            TableName: tableName,
            Key: keyOf(entry),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: '#status = :pending',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: fields,
          },
        });
      }),

    release: (entry) =>
      call('release a ledger entry', async () => {
        const remove = {
          TableName: tableName,
          Key: keyOf(entry),
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'pending' },
        };
        try {
          if (!countsTowardsOverage(entry.kind)) await dynamo.send(new DeleteCommand(remove));
          else {
            await dynamo.send(
              new TransactWriteCommand({ TransactItems: [{ Delete: remove }, { Update: moveHead(tableName, entry, undefined, -entry.amountMinor) }] }),
            );
          }
        } catch (error) {
          // An entry no longer pending (completed, or released by another run) stays as it is. Anything else (a
          // write conflict, a missing head) leaves the entry pending and fails the run, so the next run resumes it.
          if (!isConditionFailure(error) && !transactionItemFailedCondition(error, 0)) throw error;
        }
      }),

    recordInvoice: (record) => call('write the invoice record', () => writeInvoiceRecord(dynamo, tableName, record)),

    invoiceStatus: (invoiceId) =>
      call('read an invoice record', async () => {
        const result = await dynamo.send(
          new GetCommand({
            TableName: tableName,
            Key: invoiceKey(invoiceId),
            ProjectionExpression: '#status',
            ExpressionAttributeNames: { '#status': 'status' },
            ConsistentRead: true,
          }),
        );
        return (result.Item as Pick<InvoiceRecord, 'status'> | undefined)?.status;
      }),
  };
}

/**
 * The invoice record is shared with the webhook handler, which owns what Stripe reports (status, amounts, times).
 * Billing sets the fields only it knows (customer, period, ledger entry, the byCustomer keys) and fills in the rest
 * only where the record has nothing yet, so a record the webhook wrote first is never set back.
 */
async function writeInvoiceRecord(dynamo: DynamoDBDocumentClient, tableName: string, record: InvoiceRecord): Promise<void> {
  const { pk, sk, customerId, period, ledgerEntry, gsi1pk, gsi1sk, ...reported } = record;
  const owned = Object.entries({ customerId, period, ledgerEntry, gsi1pk, gsi1sk }).filter(([, value]) => value !== undefined);
  const filled = Object.entries(reported).filter(([, value]) => value !== undefined);
  const values = [...owned, ...filled];
  await dynamo.send(
    new UpdateCommand({
      TableName: tableName,
      Key: { pk, sk },
      UpdateExpression: `SET ${[...owned.map(([name]) => `#${name} = :${name}`), ...filled.map(([name]) => `#${name} = if_not_exists(#${name}, :${name})`)].join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(values.map(([name]) => [`#${name}`, name])),
      ExpressionAttributeValues: Object.fromEntries(values.map(([name, value]) => [`:${name}`, value])),
    }),
  );
}

/**
 * The head update of a reservation (conditioned on the version the plan was made on, or on there being no head
 * yet) or of a release (on the head existing): billedMinor moves by `amountMinor`, the version by one.
 */
function moveHead(tableName: string, entry: LedgerEntry, version: number | undefined, amountMinor: number) {
  const condition = version === undefined ? 'attribute_exists(pk)' : version === 0 ? 'attribute_not_exists(pk)' : 'version = :version';
  return {
    TableName: tableName,
    Key: ledgerHeadKey(entry.customerId, entry.period),
    UpdateExpression:
      'SET recordType = :recordType, billedMinor = if_not_exists(billedMinor, :zero) + :amount, version = if_not_exists(version, :zero) + :one, updatedAt = :at',
    ConditionExpression: condition,
    ExpressionAttributeValues: {
      ':recordType': 'ledgerHead',
      ':zero': 0,
      ':one': 1,
      ':amount': amountMinor,
      ':at': new Date().toISOString(),
      ...(version === undefined || version === 0 ? {} : { ':version': version }),
    },
  };
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
      throw new ServiceError(
        `Could not ${what}: the billing table ${tableName} does not exist`,
        'Deploy the stack that creates it, or set the billing-table input to its name',
        { cause: error },
      );
    }
    if (name === 'AccessDeniedException') {
      throw new ServiceError(
        `Could not ${what}: access to the billing table ${tableName} was denied`,
        'Grant the role dynamodb:Query, GetItem, PutItem, UpdateItem and DeleteItem on the table (a TransactWriteItems is authorised item by item as those)',
        { cause: error },
      );
    }
    throw error;
  }
}
