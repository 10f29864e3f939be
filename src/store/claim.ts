import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  type PutCommandInput,
  type TransactWriteCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * A conditional write that claims one item: a put, an update, a delete, or a transaction whose item at `claimed` is
 * the one that decides who won. A put and a transaction name the claimed item's key, for the fallback read.
 */
export type ClaimWrite =
  | { readonly put: PutCommandInput; readonly key: Record<string, unknown> }
  | { readonly update: UpdateCommandInput }
  | { readonly delete: DeleteCommandInput }
  | { readonly transaction: readonly TransactItem[]; readonly claimed: number; readonly key: Record<string, unknown> };

/**
 * Who won. The winner gets the item as its write's `ReturnValues` asked for it (if it did). The loser gets the
 * claimed item as the service found it (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), or undefined when there was
 * none (in a transaction that another item's condition or version check cancelled).
 */
export type ClaimOutcome<Item> = { readonly won: true; readonly attributes: Item | undefined } | { readonly won: false; readonly existing: Item | undefined };

export interface ClaimOptions {
  /**
   * Read the claimed item (one consistent GetItem) when the service lost to it but left it out of the answer: a
   * store that ignores ALL_OLD (dynalite does), or a transaction cancelled by a concurrent one. Leave it off when
   * the caller has no use for `existing`.
   */
  readonly readWhenLeftOut?: boolean;
}

/**
 * Sends a conditional write and says who won, with the item it lost to, in one request. A failed condition, or a
 * transaction cancelled by a condition or by another transaction on the same items, is a loss: another run got there
 * first. Any other error is thrown.
 */
export async function claim<Item = Record<string, unknown>>(
  dynamo: DynamoDBDocumentClient,
  write: ClaimWrite,
  options: ClaimOptions = {},
): Promise<ClaimOutcome<Item>> {
  try {
    return { won: true, attributes: (await send(dynamo, write)) as Item | undefined };
  } catch (error) {
    const loss = lossOf(error, 'claimed' in write ? write.claimed : 0);
    if (!loss) throw error;
    if (loss.item || !loss.leftOut || !options.readWhenLeftOut) return { won: false, existing: loss.item as Item | undefined };
    const { TableName, Key } = target(write);
    const read = await dynamo.send(new GetCommand({ TableName, Key, ConsistentRead: true }));
    return { won: false, existing: read.Item as Item | undefined };
  }
}

/** True when the conditional write went through; false when it lost (see `claim`). */
export async function conditionHeld(dynamo: DynamoDBDocumentClient, write: ClaimWrite): Promise<boolean> {
  return (await claim(dynamo, write)).won;
}

/**
 * How a write lost, or undefined when the error is not a loss. `leftOut`: the claimed item stood in the way but the
 * answer does not carry it (a store ignoring ALL_OLD, or a concurrent transaction, which reports no item).
 */
function lossOf(error: unknown, claimed: number): { readonly item?: Record<string, unknown>; readonly leftOut: boolean } | undefined {
  const failure = error as { name?: string; Item?: Record<string, AttributeValue>; CancellationReasons?: CancellationReason[] } | null;
  if (failure?.name === 'ConditionalCheckFailedException') return found(failure.Item);
  if (failure?.name !== 'TransactionCanceledException') return undefined;
  const reasons = failure.CancellationReasons ?? [];
  if (!reasons.some((reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict')) return undefined;
  const own = reasons[claimed];
  if (own?.Code === 'ConditionalCheckFailed') return found(own.Item);
  // Cancelled by a concurrent transaction: whether the claimed item exists is unknown. Cancelled by another item's
  // condition alone: the claimed item's own condition held, so there is no item to lose to.
  return { leftOut: reasons.some((reason) => reason.Code === 'TransactionConflict') };
}

interface CancellationReason {
  readonly Code?: string;
  readonly Item?: Record<string, AttributeValue>;
}

/** A transaction refused because the condition of its item at `index` failed (whatever the other items did). */
export function transactionItemFailedCondition(error: unknown, index: number): boolean {
  const failure = error as { name?: string; CancellationReasons?: CancellationReason[] } | null;
  return failure?.name === 'TransactionCanceledException' && failure.CancellationReasons?.[index]?.Code === 'ConditionalCheckFailed';
}

/** A single conditional write that lost. Matched by name, so it holds even if a bundle carries two copies of the SDK. */
export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

function found(item: Record<string, AttributeValue> | undefined) {
  // Errors bypass the document client's unmarshalling: the item arrives in DynamoDB's attribute-value form.
  return item ? { item: unmarshall(item), leftOut: false } : { leftOut: true };
}

async function send(dynamo: DynamoDBDocumentClient, write: ClaimWrite): Promise<Record<string, unknown> | undefined> {
  const allOld = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } as const;
  if ('put' in write) return (await dynamo.send(new PutCommand({ ...write.put, ...allOld }))).Attributes;
  if ('update' in write) return (await dynamo.send(new UpdateCommand({ ...write.update, ...allOld }))).Attributes;
  if ('delete' in write) return (await dynamo.send(new DeleteCommand({ ...write.delete, ...allOld }))).Attributes;
  const items = write.transaction.map((item, index) => (index === write.claimed ? withAllOld(item) : item));
  await dynamo.send(new TransactWriteCommand({ TransactItems: items }));
  return undefined;
}

function withAllOld(item: TransactItem): TransactItem {
  const allOld = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } as const;
  if (item.Put) return { Put: { ...item.Put, ...allOld } };
  if (item.Update) return { Update: { ...item.Update, ...allOld } };
  if (item.Delete) return { Delete: { ...item.Delete, ...allOld } };
  if (item.ConditionCheck) return { ConditionCheck: { ...item.ConditionCheck, ...allOld } };
  return item;
}

/** The table and key of the claimed item, for the fallback read. */
function target(write: ClaimWrite): { TableName: string | undefined; Key: Record<string, unknown> | undefined } {
  if ('put' in write) return { TableName: write.put.TableName, Key: write.key };
  if ('update' in write) return { TableName: write.update.TableName, Key: write.update.Key };
  if ('delete' in write) return { TableName: write.delete.TableName, Key: write.delete.Key };
  const item = write.transaction[write.claimed];
  const operation = item?.Put ?? item?.Update ?? item?.Delete ?? item?.ConditionCheck;
  return { TableName: operation?.TableName, Key: write.key };
}
