import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * A conditional write that lost (the item exists, or another run changed it first). Matched by name, not with
 * instanceof, so it holds even if a bundle ends up with two copies of the SDK.
 */
export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

/**
 * Awaits a conditional write: true when it was written, false when its condition failed or its transaction lost to
 * another writer (another run got there first). Any other error is thrown.
 */
export async function conditionHeld(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionFailure(error) || isTransactionLost(error)) return false;
    throw error;
  }
}

/** A transaction refused because the condition of its item at `index` failed. */
export function transactionItemFailedCondition(error: unknown, index: number): boolean {
  const failure = error as { name?: string; CancellationReasons?: Array<{ Code?: string }> } | null;
  return failure?.name === 'TransactionCanceledException' && failure.CancellationReasons?.[index]?.Code === 'ConditionalCheckFailed';
}

/**
 * A transaction refused because one of its conditions failed, or because another transaction was writing the same
 * items at that moment: either way another run got there first.
 */
export function isTransactionLost(error: unknown): boolean {
  const failure = error as { name?: string; CancellationReasons?: Array<{ Code?: string }> } | null;
  if (failure?.name !== 'TransactionCanceledException') return false;
  const reasons = failure.CancellationReasons ?? [];
  return reasons.some((reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict');
}

/**
 * The item a conditional write failed on, from `ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`, so no second read is
 * needed. Undefined when the service left it out (some emulators do); callers whose condition implies the item exists
 * then read it.
 */
export function itemOnConditionFailure(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> } | null)?.Item;
  return item ? unmarshall(item) : undefined;
}
