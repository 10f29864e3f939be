import { readFileSync } from 'node:fs';
import Stripe from 'stripe';
import type { HttpApiRequest } from '../../lambda/billing-handler/handler.js';

/** Real-shaped Stripe events of API 2026-10-28.endive, from test/fixtures/stripe-events. */
export type FixtureName =
  | 'invoice.finalized'
  | 'invoice.paid'
  | 'invoice.paid.one-off'
  | 'invoice.payment_succeeded'
  | 'invoice.payment_failed'
  | 'invoice.overdue'
  | 'invoice.voided'
  | 'invoice.marked_uncollectible'
  | 'customer.subscription.created'
  | 'customer.subscription.updated.quantity'
  | 'customer.subscription.trial_will_end'
  | 'customer.subscription.updated.active'
  | 'customer.subscription.deleted'
  | 'customer.subscription.paused'
  | 'customer.subscription.resumed'
  | 'charge.succeeded';

export interface FixtureEvent {
  id: string;
  type: string;
  created: number;
  data: { object: Record<string, unknown> & { id: string } };
  [field: string]: unknown;
}

export function fixtureEvent(name: FixtureName): FixtureEvent {
  return JSON.parse(readFileSync(new URL(`../fixtures/stripe-events/${name}.json`, import.meta.url), 'utf8')) as FixtureEvent;
}

/** The fixture with every occurrence of its ids replaced, so tests can use fresh objects and events. */
export function withIds(event: FixtureEvent, replacements: Readonly<Record<string, string>>): FixtureEvent {
  let text = JSON.stringify(event);
  for (const [from, to] of Object.entries(replacements)) text = text.split(from).join(to);
  return JSON.parse(text) as FixtureEvent;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** An API Gateway HTTP API (payload 2.0) request carrying `payload`, signed as Stripe signs deliveries. */
export function signedDelivery(
  payload: string,
  secret: string,
  options: { timestamp?: number; base64?: boolean; header?: string | null } = {},
): HttpApiRequest {
  const header =
    options.header === undefined ? Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: options.timestamp ?? nowSeconds() }) : options.header;
  return {
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      ...(header === null ? {} : { 'stripe-signature': header }),
    },
    body: options.base64 ? Buffer.from(payload, 'utf8').toString('base64') : payload,
    isBase64Encoded: options.base64 === true,
    requestContext: { requestId: `req-${Math.random().toString(36).slice(2)}` },
  };
}

export function stripeSignature(payload: string, secret: string, timestamp = nowSeconds()): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}
