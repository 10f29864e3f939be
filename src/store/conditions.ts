/**
 * A conditional write that lost (the item exists, or another run changed it first). Matched by name, not with
 * instanceof, so it holds even if a bundle ends up with two copies of the SDK.
 */
export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}
