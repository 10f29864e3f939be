import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlertMarkerStore } from '../alerts/dispatch.js';
import type { BudgetAlert } from '../alerts/evaluate.js';
import { isConditionFailure } from './conditions.js';
import { alertKey } from './keys.js';
import type { AlertMarker } from './records.js';

/** A claim older than this belongs to a run that crashed between claim and publish; it may be taken over. */
export const STALE_CLAIM_MS = 15 * 60_000;
/** Markers outlive their period by about a year, for the audit trail; TTL then removes them. */
const MARKER_LIFETIME_S = 400 * 86_400;

export function dynamoAlertMarkers(dynamo: DynamoDBDocumentClient, tableName: string): AlertMarkerStore {
  const key = (alert: BudgetAlert) => alertKey(alert.period, alert.scope, alert.kind, alert.level);
  return {
    async claim(alert, now) {
      const marker: AlertMarker = {
        ...key(alert),
        recordType: 'alert',
        status: 'claimed',
        claimedAt: now.toISOString(),
        expiresAt: Math.floor(now.getTime() / 1000) + MARKER_LIFETIME_S,
      };
      try {
        await dynamo.send(
          new PutCommand({
            TableName: tableName,
            Item: marker,
            ConditionExpression: 'attribute_not_exists(pk) OR (#status = :claimed AND claimedAt < :stale)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':claimed': 'claimed', ':stale': new Date(now.getTime() - STALE_CLAIM_MS).toISOString() },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },
    async markSent(alert, messageId, now) {
      await dynamo.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key(alert),
          UpdateExpression: 'SET #status = :sent, sentAt = :now, messageId = :messageId',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':sent': 'sent', ':now': now.toISOString(), ':messageId': messageId },
        }),
      );
    },
    async release(alert) {
      await dynamo.send(
        new DeleteCommand({
          TableName: tableName,
          Key: key(alert),
          ConditionExpression: '#status = :claimed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':claimed': 'claimed' },
        }),
      ).catch((error: unknown) => {
        if (!(isConditionFailure(error))) throw error;
      });
    },
    async wasSent(alert) {
      const result = await dynamo.send(new GetCommand({ TableName: tableName, Key: key(alert), ConsistentRead: true }));
      return result.Item !== undefined;
    },
  };
}
