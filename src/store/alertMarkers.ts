import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlertMarkerStore } from '../alerts/dispatch.js';
import type { BudgetAlert } from '../alerts/evaluate.js';
import { conditionHeld } from './conditions.js';
import { alertKey, alertPeriodKey } from '../records/keys.js';
import { queryAll } from './query.js';
import type { AlertMarker } from '../records/schema.js';

/** A claim older than this belongs to a run that crashed between claim and publish; it may be taken over. */
export const STALE_CLAIM_MS = 15 * 60_000;
/** Markers outlive their period by about a year, for the audit trail; TTL then removes them. */
const MARKER_LIFETIME_S = 400 * 86_400;

export function dynamoAlertMarkers(dynamo: DynamoDBDocumentClient, tableName: string): AlertMarkerStore {
  const key = (alert: BudgetAlert) => alertKey(alert.period, alert.scope, alert.kind, alert.level);
  const names = { '#status': 'status' };
  return {
    async claim(alert, now) {
      const marker: AlertMarker = {
        ...key(alert),
        recordType: 'alert',
        status: 'claimed',
        claimToken: randomUUID(),
        claimedAt: now.toISOString(),
        expiresAt: Math.floor(now.getTime() / 1000) + MARKER_LIFETIME_S,
      };
      const claimed = await conditionHeld(
        dynamo.send(
          new PutCommand({
            TableName: tableName,
            Item: marker,
            ConditionExpression: 'attribute_not_exists(pk) OR (#status = :claimed AND claimedAt < :stale)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':claimed': 'claimed', ':stale': new Date(now.getTime() - STALE_CLAIM_MS).toISOString() },
          }),
        ),
      );
      return claimed ? { token: marker.claimToken } : undefined;
    },
    markSent: (alert, claim, messageId, now) =>
      conditionHeld(
        dynamo.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(alert),
            UpdateExpression: 'SET #status = :sent, sentAt = :now, messageId = :messageId',
            ConditionExpression: 'claimToken = :token',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':sent': 'sent', ':now': now.toISOString(), ':messageId': messageId, ':token': claim.token },
          }),
        ),
      ),
    async release(alert, claim) {
      // A claim taken over meanwhile belongs to its new holder: nothing to give back.
      await conditionHeld(
        dynamo.send(
          new DeleteCommand({
            TableName: tableName,
            Key: key(alert),
            ConditionExpression: '#status = :claimed AND claimToken = :token',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':claimed': 'claimed', ':token': claim.token },
          }),
        ),
      );
    },
    async wasSent(alert) {
      const result = await dynamo.send(new GetCommand({ TableName: tableName, Key: key(alert), ConsistentRead: true }));
      return result.Item?.status === 'sent';
    },
    async sentInPeriod(period) {
      const sent = await queryAll(dynamo, {
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: '#status = :sent',
        ProjectionExpression: 'sk',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':pk': alertPeriodKey(period), ':sent': 'sent' },
        ConsistentRead: true,
      });
      return new Set(sent.map((item) => String(item.sk)));
    },
  };
}
