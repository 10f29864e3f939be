import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  EventClaim,
  EventClaimRequest,
  EventLedger,
  InvoiceStore,
  InvoiceUpdate,
  InvoiceUpdateResult,
  RecordedOutcome,
  SubscriptionState,
  SubscriptionStore,
} from '../webhooks/ports.js';
import { invoiceByCustomerKey, invoiceKey, subscriptionKey, webhookEventKey } from './keys.js';
import type { InvoiceRecord, InvoiceWebhookFields, SubscriptionRecord, WebhookEventMarker } from './records.js';
import { conditionHeld, isConditionFailure } from './conditions.js';

/** Dedupe markers outlive Stripe's 3-day retries and its 30-day event list, so a backfill never repeats an effect. */
export const EVENT_MARKER_TTL_SECONDS = 35 * 24 * 3600;
/** Longer than the Lambda timeout: a claim this old belongs to an invocation that died. */
export const CLAIM_LEASE_MS = 60_000;

export class ClaimLostError extends Error {
  override name = 'ClaimLostError';
}

export function dynamoEventLedger(dynamo: DynamoDBDocumentClient, billingTable: string): EventLedger {
  return {
    async claim(request: EventClaimRequest, nowMs: number): Promise<EventClaim> {
      const token = randomUUID();
      try {
        const result = await dynamo.send(
          new UpdateCommand({
            TableName: billingTable,
            Key: webhookEventKey(request.eventId),
            UpdateExpression:
              'SET recordType = :recordType, eventId = :eventId, eventType = :eventType, eventCreated = :eventCreated, #status = :claimed, ' +
              'claimToken = :token, leaseUntil = :leaseUntil, receivedAt = if_not_exists(receivedAt, :now), expiresAt = :expiresAt, ' +
              'attempts = if_not_exists(attempts, :zero) + :one',
            ConditionExpression: 'attribute_not_exists(pk) OR (#status = :claimed AND leaseUntil < :nowMs)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':recordType': 'webhookEvent',
              ':eventId': request.eventId,
              ':eventType': request.eventType,
              ':eventCreated': request.eventCreated,
              ':claimed': 'claimed',
              ':token': token,
              ':leaseUntil': nowMs + CLAIM_LEASE_MS,
              ':now': new Date(nowMs).toISOString(),
              ':nowMs': nowMs,
              ':expiresAt': Math.floor(nowMs / 1000) + EVENT_MARKER_TTL_SECONDS,
              ':zero': 0,
              ':one': 1,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        const marker = result.Attributes as WebhookEventMarker | undefined;
        const recorded: RecordedOutcome | undefined =
          marker?.effectApplied === undefined
            ? undefined
            : { effectApplied: marker.effectApplied, ...(marker.notification ? { notification: marker.notification } : {}) };
        return { kind: 'claimed', token, ...(recorded ? { recorded } : {}) };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const existing = await dynamo.send(new GetCommand({ TableName: billingTable, Key: webhookEventKey(request.eventId), ConsistentRead: true }));
        return (existing.Item as WebhookEventMarker | undefined)?.status === 'done' ? { kind: 'done' } : { kind: 'in_progress' };
      }
    },

    async recordOutcome(eventId, token, outcome) {
      await updateOwnClaim(
        dynamo,
        billingTable,
        eventId,
        token,
        'SET effectApplied = :applied' + (outcome.notification ? ', notification = :notification' : ''),
        {
          ':applied': outcome.effectApplied,
          ...(outcome.notification ? { ':notification': outcome.notification } : {}),
        },
      );
    },

    async complete(eventId, token, messageId, nowMs) {
      await updateOwnClaim(
        dynamo,
        billingTable,
        eventId,
        token,
        'SET #status = :done, completedAt = :completedAt' + (messageId ? ', messageId = :messageId' : '') + ' REMOVE claimToken, leaseUntil',
        { ':done': 'done', ':completedAt': new Date(nowMs).toISOString(), ...(messageId ? { ':messageId': messageId } : {}) },
        { '#status': 'status' },
      );
    },

    async release(eventId, token) {
      await updateOwnClaim(dynamo, billingTable, eventId, token, 'SET leaseUntil = :expired', { ':expired': 0 });
    },
  };
}

async function updateOwnClaim(
  dynamo: DynamoDBDocumentClient,
  billingTable: string,
  eventId: string,
  token: string,
  updateExpression: string,
  values: Record<string, unknown>,
  names?: Record<string, string>,
): Promise<void> {
  const stillOurs = await conditionHeld(
    dynamo.send(
      new UpdateCommand({
        TableName: billingTable,
        Key: webhookEventKey(eventId),
        UpdateExpression: updateExpression,
        ConditionExpression: 'claimToken = :token',
        ExpressionAttributeValues: { ...values, ':token': token },
        ...(names ? { ExpressionAttributeNames: names } : {}),
      }),
    ),
  );
  if (!stillOurs) {
    throw new ClaimLostError(
      `the claim on event ${eventId} was taken over by another delivery (this one ran past the ${CLAIM_LEASE_MS / 1000} s lease); Stripe's redelivery will settle it`,
    );
  }
}

/**
 * Invoice records are shared with the billing action: this sets what Stripe reports (status, amounts) and fills in
 * customerId, period, ledgerEntry and the byCustomer index keys from the invoice metadata only where the record has
 * none yet, so what the action wrote stays.
 */
export function dynamoInvoiceStore(dynamo: DynamoDBDocumentClient, billingTable: string): InvoiceStore {
  return {
    async applyInvoiceUpdate(update: InvoiceUpdate, nowMs: number): Promise<InvoiceUpdateResult> {
      const optional = Object.entries({
        hostedInvoiceUrl: update.hostedInvoiceUrl,
        invoiceNumber: update.invoiceNumber,
        subscriptionId: update.subscriptionId,
      }).filter(([, value]) => value !== undefined);
      const fromMetadata = Object.entries({
        customerId: update.customerId,
        period: update.period,
        ledgerEntry: update.ledgerEntry,
        ...(update.customerId && update.period ? invoiceByCustomerKey(update.customerId, update.period, update.invoiceId) : {}),
      }).filter(([, value]) => value !== undefined);
      try {
        const result = await dynamo.send(
          new UpdateCommand({
            TableName: billingTable,
            Key: invoiceKey(update.invoiceId),
            UpdateExpression: [
              'SET recordType = :recordType, invoiceId = :invoiceId, stripeCustomerId = :stripeCustomerId, amountDue = :amountDue',
              'amountPaid = :amountPaid, currency = :currency, #status = :status, statusRank = :rank',
              'createdAt = if_not_exists(createdAt, :now), updatedAt = :now',
              'lastEventCreated = :created, lastEventId = :eventId, lastEventType = :eventType',
              ...optional.map(([name]) => `${name} = :${name}`),
              ...fromMetadata.map(([name]) => `#${name} = if_not_exists(#${name}, :${name})`),
            ].join(', '),
            // Forward only: a further status, or the same status from a newer event, or this very event again.
            ConditionExpression:
              'attribute_not_exists(pk) OR statusRank < :rank OR lastEventId = :eventId OR (statusRank = :rank AND (' +
              'attribute_not_exists(lastEventCreated) OR lastEventCreated < :created OR (lastEventCreated = :created AND lastEventId < :eventId)))',
            ExpressionAttributeNames: { '#status': 'status', ...Object.fromEntries(fromMetadata.map(([name]) => [`#${name}`, name])) },
            ExpressionAttributeValues: {
              ':recordType': 'invoice',
              ':invoiceId': update.invoiceId,
              ':stripeCustomerId': update.stripeCustomerId,
              ':amountDue': update.amountDue,
              ':amountPaid': update.amountPaid,
              ':currency': update.currency,
              ':status': update.status,
              ':rank': update.statusRank,
              ':now': new Date(nowMs).toISOString(),
              ':created': update.eventCreated,
              ':eventId': update.eventId,
              ':eventType': update.eventType,
              ...Object.fromEntries([...optional, ...fromMetadata].map(([name, value]) => [`:${name}`, value])),
            },
            ReturnValues: 'ALL_OLD',
          }),
        );
        const previous = result.Attributes as (InvoiceRecord & InvoiceWebhookFields) | undefined;
        if (!previous) return { applied: true };
        return {
          applied: true,
          previous: {
            status: previous.status,
            ...(previous.lastEventId ? { lastEventId: previous.lastEventId } : {}),
            ...(previous.customerId ? { customerId: previous.customerId } : {}),
          },
        };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const found = await dynamo.send(
          new GetCommand({
            TableName: billingTable,
            Key: invoiceKey(update.invoiceId),
            ProjectionExpression: '#status, customerId',
            ExpressionAttributeNames: { '#status': 'status' },
            ConsistentRead: true,
          }),
        );
        const stored = found.Item as Pick<InvoiceRecord, 'status' | 'customerId'> | undefined;
        return stored
          ? { applied: false, stored: { status: stored.status, ...(stored.customerId ? { customerId: stored.customerId } : {}) } }
          : { applied: false };
      }
    },
  };
}

export function dynamoSubscriptionStore(dynamo: DynamoDBDocumentClient, subscriptionsTable: string): SubscriptionStore {
  return {
    async upsertSubscription(state: SubscriptionState, nowMs: number) {
      const record: SubscriptionRecord = { ...state, recordType: 'subscription', updatedAt: new Date(nowMs).toISOString() };
      const applied = await conditionHeld(
        dynamo.send(
          new PutCommand({
            TableName: subscriptionsTable,
            Item: { ...record, ...subscriptionKey(state.subscriptionId) },
            ConditionExpression:
              'attribute_not_exists(subscriptionId) OR lastEventId = :eventId OR lastEventCreated < :created OR (lastEventCreated = :created AND lastEventId < :eventId)',
            ExpressionAttributeValues: { ':eventId': state.lastEventId, ':created': state.lastEventCreated },
          }),
        ),
      );
      return { applied };
    },
  };
}
