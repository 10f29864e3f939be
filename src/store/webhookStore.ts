import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type {
  EventClaimRequest,
  EventLedger,
  EventSettlement,
  InvoiceStore,
  InvoiceUpdate,
  InvoiceUpdateResult,
  RecordedOutcome,
  SubscriptionState,
  SubscriptionStore,
} from '../webhooks/ports.js';
import { invoiceByCustomerKey, invoiceKey, subscriptionKey, webhookEventKey } from '../records/keys.js';
import type { InvoiceRecord, InvoiceWebhookFields, SubscriptionRecord, WebhookEventMarker } from '../records/schema.js';
import { claim, conditionHeld } from './claim.js';

/** Dedupe markers outlive Stripe's 3-day retries and its 30-day event list, so a backfill never repeats an effect. */
export const EVENT_MARKER_TTL_SECONDS = 35 * 24 * 3600;
/** Longer than the Lambda timeout: a claim this old belongs to an invocation that died. */
export const CLAIM_LEASE_MS = 60_000;

export class ClaimLostError extends Error {
  override name = 'ClaimLostError';
}

export function dynamoEventLedger(dynamo: DynamoDBDocumentClient, billingTable: string): EventLedger {
  const ledger: EventLedger = {
    async settle(request: EventClaimRequest, recorded: RecordedOutcome, nowMs: number): Promise<EventSettlement> {
      const publishing = recorded.notification !== undefined;
      const token = randomUUID();
      const common =
        'recordType = :recordType, eventId = :eventId, eventType = :eventType, eventCreated = :eventCreated, ' +
        'receivedAt = if_not_exists(receivedAt, :now), expiresAt = :expiresAt, attempts = if_not_exists(attempts, :zero) + :one';
      const outcome = await claim<WebhookEventMarker>(
        dynamo,
        {
          update: {
            TableName: billingTable,
            Key: webhookEventKey(request.eventId),
            // A notification an earlier attempt recorded wins over this attempt's, so a takeover publishes the same one.
            UpdateExpression: publishing
              ? `SET ${common}, #status = :claimed, claimToken = :token, leaseUntil = :leaseUntil, ` +
                'effectApplied = if_not_exists(effectApplied, :applied), notification = if_not_exists(notification, :notification)'
              : `SET ${common}, #status = :done, completedAt = :now, effectApplied = :applied REMOVE claimToken, leaseUntil`,
            // Nothing to publish may settle an expired claim only if that claim recorded no notification of its own.
            ConditionExpression: publishing ? FREE_OR_EXPIRED : FREE_OR_EXPIRED_WITHOUT_NOTIFICATION,
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':recordType': 'webhookEvent',
              ':eventId': request.eventId,
              ':eventType': request.eventType,
              ':eventCreated': request.eventCreated,
              ':claimed': 'claimed',
              ':now': new Date(nowMs).toISOString(),
              ':nowMs': nowMs,
              ':expiresAt': Math.floor(nowMs / 1000) + EVENT_MARKER_TTL_SECONDS,
              ':zero': 0,
              ':one': 1,
              ':applied': recorded.effectApplied,
              ...(publishing ? { ':token': token, ':leaseUntil': nowMs + CLAIM_LEASE_MS, ':notification': recorded.notification } : { ':done': 'done' }),
            },
            ReturnValues: publishing ? 'ALL_NEW' : 'NONE',
          },
        },
        { readWhenLeftOut: true },
      );
      if (outcome.won) {
        if (!publishing) return { kind: 'settled' };
        return { kind: 'claimed', token, recorded: recordedOn(outcome.attributes as WebhookEventMarker) ?? recorded };
      }
      const { existing } = outcome;
      if (existing?.status === 'done') return { kind: 'done' };
      if (!existing || (existing.leaseUntil ?? 0) >= nowMs) return { kind: 'in_progress' };
      // An expired claim holding a notification: take it over and publish what it recorded.
      return ledger.settle(request, recordedOn(existing) ?? recorded, nowMs);
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
  return ledger;
}

const FREE_OR_EXPIRED = 'attribute_not_exists(pk) OR (#status = :claimed AND leaseUntil < :nowMs)';
const FREE_OR_EXPIRED_WITHOUT_NOTIFICATION = 'attribute_not_exists(pk) OR (#status = :claimed AND leaseUntil < :nowMs AND attribute_not_exists(notification))';

function recordedOn(marker: WebhookEventMarker): RecordedOutcome | undefined {
  if (marker.effectApplied === undefined) return undefined;
  return { effectApplied: marker.effectApplied, ...(marker.notification ? { notification: marker.notification } : {}) };
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
  const stillOurs = await conditionHeld(dynamo, {
    update: {
      TableName: billingTable,
      Key: webhookEventKey(eventId),
      UpdateExpression: updateExpression,
      ConditionExpression: 'claimToken = :token',
      ExpressionAttributeValues: { ...values, ':token': token },
      ...(names ? { ExpressionAttributeNames: names } : {}),
    },
  });
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
      type StoredInvoice = InvoiceRecord & InvoiceWebhookFields;
      const outcome = await claim<StoredInvoice>(
        dynamo,
        {
          update: {
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
            // Forward only: a further status, or the same status from a newer event. This very event again writes
            // nothing: its condition fails and the stored record shows it is already in.
            ConditionExpression:
              '(attribute_not_exists(pk) OR statusRank < :rank OR (statusRank = :rank AND (' +
              'attribute_not_exists(lastEventCreated) OR lastEventCreated < :created OR (lastEventCreated = :created AND lastEventId < :eventId)))) ' +
              'AND (attribute_not_exists(lastEventId) OR lastEventId <> :eventId)',
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
          },
        },
        { readWhenLeftOut: true },
      );
      if (outcome.won) {
        const previous = outcome.attributes;
        if (!previous) return { applied: true };
        return {
          applied: true,
          previous: {
            status: previous.status,
            ...(previous.lastEventId ? { lastEventId: previous.lastEventId } : {}),
            ...(previous.customerId ? { customerId: previous.customerId } : {}),
          },
        };
      }
      const stored = outcome.existing;
      if (!stored) return { applied: false };
      const customer = stored.customerId ? { customerId: stored.customerId } : {};
      if (stored.lastEventId === update.eventId) return { applied: true, previous: { status: stored.status, lastEventId: update.eventId, ...customer } };
      return { applied: false, stored: { status: stored.status, ...customer } };
    },
  };
}

export function dynamoSubscriptionStore(dynamo: DynamoDBDocumentClient, subscriptionsTable: string): SubscriptionStore {
  return {
    async upsertSubscription(state: SubscriptionState, nowMs: number) {
      const record: SubscriptionRecord = { ...state, recordType: 'subscription', updatedAt: new Date(nowMs).toISOString() };
      const key = subscriptionKey(state.subscriptionId);
      const outcome = await claim<Pick<SubscriptionRecord, 'lastEventId'>>(
        dynamo,
        {
          put: {
            TableName: subscriptionsTable,
            Item: { ...record, ...key },
            // Newer only; this very event again writes nothing (the stored snapshot is already its own).
            ConditionExpression:
              'attribute_not_exists(subscriptionId) OR lastEventCreated < :created OR (lastEventCreated = :created AND lastEventId < :eventId)',
            ExpressionAttributeValues: { ':eventId': state.lastEventId, ':created': state.lastEventCreated },
          },
          key,
        },
        { readWhenLeftOut: true },
      );
      return { applied: outcome.won || outcome.existing?.lastEventId === state.lastEventId };
    },
  };
}
