import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlertMarkerStore, SentAlert } from '../alerts/dispatch.js';
import type { BudgetAlert } from '../alerts/evaluate.js';
import { ServiceError } from '../errors.js';
import { alertKey, alertPeriodKey } from '../records/keys.js';
import type { AlertMarker } from '../records/schema.js';
import { realSleep, withRetry } from '../retry.js';
import { claim, conditionHeld } from './claim.js';
import { queryAll } from './query.js';

/** A claim older than this belongs to a run that crashed between claim and publish; it may be taken over. */
export const STALE_CLAIM_MS = 15 * 60_000;
/** Markers outlive their period by about a year, for the audit trail; TTL then removes them. */
const MARKER_LIFETIME_S = 400 * 86_400;

/** BatchWriteItem's limit. */
const PUTS_PER_BATCH = 25;

export interface AlertMarkerOptions {
  /** Back-off between retries of the writes DynamoDB left unprocessed; injectable so tests take no time. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export function dynamoAlertMarkers(dynamo: DynamoDBDocumentClient, tableName: string, options: AlertMarkerOptions = {}): AlertMarkerStore {
  const key = (alert: BudgetAlert) => alertKey(alert.period, alert.scope, alert.kind, alert.level);
  const names = { '#status': 'status' };
  const expiresAt = (now: Date) => Math.floor(now.getTime() / 1000) + MARKER_LIFETIME_S;
  return {
    async claim(alert, now) {
      const marker: AlertMarker = {
        ...key(alert),
        recordType: 'alert',
        status: 'claimed',
        claimToken: randomUUID(),
        claimedAt: now.toISOString(),
        expiresAt: expiresAt(now),
      };
      // One conditional put per claim rather than TransactWriteItems of many: a transaction is all or nothing (one alert
      // already held, or an overlapping run, cancels all of it), bills two write units per item, and dynalite has none.
      const outcome = await claim(dynamo, {
        put: {
          TableName: tableName,
          Item: marker,
          ConditionExpression: 'attribute_not_exists(pk) OR (#status = :claimed AND claimedAt < :stale)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':claimed': 'claimed', ':stale': new Date(now.getTime() - STALE_CLAIM_MS).toISOString() },
        },
        key: key(alert),
      });
      return outcome.won ? { token: marker.claimToken, claimedAt: marker.claimedAt } : undefined;
    },
    async markSent(sent, now) {
      // Each alert was published under its claim, so its full 'sent' marker can be put without a condition (which a
      // batch write cannot carry): over a claim taken over meanwhile, it records a notification that did go out.
      const puts = new Map<string, { PutRequest: { Item: AlertMarker } }>();
      for (const entry of sent) {
        const marker = sentMarker(entry, key(entry.alert), now, expiresAt(now));
        puts.set(`${marker.pk}/${marker.sk}`, { PutRequest: { Item: marker } });
      }
      const requests = [...puts.values()];
      for (let start = 0; start < requests.length; start += PUTS_PER_BATCH) {
        await writeBatch(dynamo, tableName, requests.slice(start, start + PUTS_PER_BATCH), options.sleep ?? realSleep);
      }
    },
    async release(alert, claimed) {
      // A claim taken over meanwhile belongs to its new holder: nothing to give back.
      await conditionHeld(dynamo, {
        delete: {
          TableName: tableName,
          Key: key(alert),
          ConditionExpression: '#status = :claimed AND claimToken = :token',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':claimed': 'claimed', ':token': claimed.token },
        },
      });
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

function sentMarker({ claim, messageId }: SentAlert, key: { pk: string; sk: string }, now: Date, expiresAt: number): AlertMarker {
  return {
    ...key,
    recordType: 'alert',
    status: 'sent',
    claimToken: claim.token,
    claimedAt: claim.claimedAt,
    sentAt: now.toISOString(),
    messageId,
    expiresAt,
  };
}

class UnprocessedWrites extends Error {
  override name = 'UnprocessedWrites';
}

/** One BatchWriteItem, and its unprocessed items again with back-off (DynamoDB leaves some when throttled). */
async function writeBatch(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  requests: Array<{ PutRequest: { Item: AlertMarker } }>,
  sleep: (ms: number) => Promise<void>,
) {
  let remaining: unknown[] = requests;
  try {
    await withRetry(
      async () => {
        const result = await dynamo.send(new BatchWriteCommand({ RequestItems: { [tableName]: remaining as typeof requests } }));
        remaining = result.UnprocessedItems?.[tableName] ?? [];
        if (remaining.length > 0) throw new UnprocessedWrites(`${remaining.length} of ${requests.length} alert markers left unprocessed`);
      },
      { attempts: 8, baseDelayMs: 50, maxDelayMs: 5_000, isRetryable: (error) => error instanceof UnprocessedWrites, sleep },
    );
  } catch (error) {
    if (!(error instanceof UnprocessedWrites)) throw error;
    throw new ServiceError(
      `Could not record ${remaining.length} published alerts as sent in the billing table ${tableName}: DynamoDB left them unprocessed 8 times`,
      'The table is throttled: a later run takes the claims over once stale and sends those alerts again; raise the table capacity or wait',
      { cause: error },
    );
  }
}
