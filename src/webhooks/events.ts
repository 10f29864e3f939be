import { arrayAt, FieldError, flag, integer, objectAt, optionalInteger, optionalText, reference, stringMap, text, type Fields } from './fields.js';

/**
 * The parts of Stripe events (API 2026-10-28.endive) the handler relies on. Read field by field rather than
 * trusted, so a payload shape change after an API upgrade fails loudly instead of writing half a record.
 */
export const PINNED_API_VERSION = '2026-10-28.endive';

export const INVOICE_EVENT_TYPES = [
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
  'invoice.voided',
  'invoice.marked_uncollectible',
  'invoice.overdue',
] as const;

export const SUBSCRIPTION_EVENT_TYPES = [
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.resumed',
  'customer.subscription.trial_will_end',
] as const;

export type InvoiceEventType = (typeof INVOICE_EVENT_TYPES)[number];
export type SubscriptionEventType = (typeof SUBSCRIPTION_EVENT_TYPES)[number];
export const HANDLED_EVENT_TYPES: readonly string[] = [...INVOICE_EVENT_TYPES, ...SUBSCRIPTION_EVENT_TYPES];

export interface StripeEventEnvelope {
  readonly id: string;
  readonly type: string;
  readonly created: number;
  readonly api_version?: string | null;
  readonly livemode: boolean;
  readonly data: { readonly object: Fields };
}

export interface StripeInvoice {
  readonly id: string;
  readonly customer: string;
  readonly status: string | null;
  readonly amount_due: number;
  readonly amount_paid: number;
  readonly currency: string;
  readonly hosted_invoice_url?: string;
  readonly number?: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly parent?: { readonly subscription_details?: { readonly subscription: string } };
}

export interface StripeSubscriptionItem {
  readonly id: string;
  readonly quantity?: number;
  readonly current_period_start: number;
  readonly current_period_end: number;
  readonly price: { readonly id: string; readonly product: string };
}

export interface StripeSubscription {
  readonly id: string;
  readonly customer: string;
  readonly status: string;
  readonly items: { readonly data: readonly StripeSubscriptionItem[] };
  readonly cancel_at: number | null;
  readonly cancel_at_period_end: boolean;
  readonly canceled_at: number | null;
  readonly ended_at: number | null;
  readonly trial_start: number | null;
  readonly trial_end: number | null;
  readonly metadata?: Readonly<Record<string, string>>;
}

function readEnvelope(value: unknown): StripeEventEnvelope {
  const event = objectAt(value, 'event');
  if (event.object !== 'event') throw new FieldError('event.object: expected "event"');
  const apiVersion = optionalText(event, 'api_version', 'event');
  return {
    id: text(event, 'id', 'event', /^evt_\w+$/, 'an event id such as evt_1Q2w3E'),
    type: text(event, 'type', 'event', /^[a-z0-9_.]+$/, 'an event type such as invoice.paid'),
    created: integer(event, 'created', 'event'),
    ...(apiVersion === undefined ? {} : { api_version: apiVersion }),
    livemode: flag(event, 'livemode', 'event'),
    data: { object: objectAt(objectAt(event.data, 'event.data').object, 'event.data.object') },
  };
}

function readInvoice(invoice: Fields): StripeInvoice {
  const path = 'data.object';
  if (invoice.object !== 'invoice') throw new FieldError(`${path}.object: expected "invoice"`);
  const parent = invoice.parent === undefined || invoice.parent === null ? undefined : objectAt(invoice.parent, `${path}.parent`);
  const details = parent?.subscription_details;
  const hostedInvoiceUrl = optionalText(invoice, 'hosted_invoice_url', path);
  const number = optionalText(invoice, 'number', path);
  const metadata = stringMap(invoice, 'metadata', path);
  return {
    id: text(invoice, 'id', path, /^in_\w+$/, 'an invoice id such as in_1Q2w3E'),
    customer: reference(invoice, 'customer', path),
    status: optionalText(invoice, 'status', path) ?? null,
    amount_due: integer(invoice, 'amount_due', path),
    amount_paid: integer(invoice, 'amount_paid', path),
    currency: text(invoice, 'currency', path, /^[a-z]{3}$/, 'a lowercase ISO currency such as usd'),
    ...(hostedInvoiceUrl ? { hosted_invoice_url: hostedInvoiceUrl } : {}),
    ...(number ? { number } : {}),
    ...(metadata ? { metadata } : {}),
    ...(details === undefined || details === null
      ? {}
      : {
          parent: {
            subscription_details: {
              subscription: reference(objectAt(details, `${path}.parent.subscription_details`), 'subscription', `${path}.parent.subscription_details`),
            },
          },
        }),
  };
}

function readSubscription(subscription: Fields): StripeSubscription {
  const path = 'data.object';
  if (subscription.object !== 'subscription') throw new FieldError(`${path}.object: expected "subscription"`);
  const items = arrayAt(objectAt(subscription.items, `${path}.items`).data, `${path}.items.data`).map((value, index) => {
    const itemPath = `${path}.items.data.${index}`;
    const item = objectAt(value, itemPath);
    const price = objectAt(item.price, `${itemPath}.price`);
    const quantity = optionalInteger(item, 'quantity', itemPath);
    return {
      id: text(item, 'id', itemPath),
      ...(quantity === null ? {} : { quantity }),
      current_period_start: integer(item, 'current_period_start', itemPath),
      current_period_end: integer(item, 'current_period_end', itemPath),
      price: { id: text(price, 'id', `${itemPath}.price`), product: reference(price, 'product', `${itemPath}.price`) },
    };
  });
  const metadata = stringMap(subscription, 'metadata', path);
  return {
    id: text(subscription, 'id', path, /^sub_\w+$/, 'a subscription id such as sub_1Q2w3E'),
    customer: reference(subscription, 'customer', path),
    status: text(subscription, 'status', path, /^[a-z_]+$/, 'a subscription status such as active'),
    items: { data: items },
    cancel_at: optionalInteger(subscription, 'cancel_at', path),
    cancel_at_period_end: flag(subscription, 'cancel_at_period_end', path),
    canceled_at: optionalInteger(subscription, 'canceled_at', path),
    ended_at: optionalInteger(subscription, 'ended_at', path),
    trial_start: optionalInteger(subscription, 'trial_start', path),
    trial_end: optionalInteger(subscription, 'trial_end', path),
    ...(metadata ? { metadata } : {}),
  };
}

/** A verified event, routed by what it is about. */
export type WebhookEvent =
  | { readonly kind: 'invoice'; readonly envelope: StripeEventEnvelope; readonly type: InvoiceEventType; readonly invoice: StripeInvoice }
  | { readonly kind: 'subscription'; readonly envelope: StripeEventEnvelope; readonly type: SubscriptionEventType; readonly subscription: StripeSubscription }
  | { readonly kind: 'unhandled'; readonly envelope: StripeEventEnvelope };

export class EventShapeError extends Error {
  override name = 'EventShapeError';
}

/** Parses a verified JSON value into a routed event, or throws EventShapeError naming the field that is off. */
export function parseEvent(value: unknown): WebhookEvent {
  let envelope: StripeEventEnvelope;
  try {
    envelope = readEnvelope(value);
  } catch (error) {
    throw shapeError(error, 'body is not a Stripe event');
  }
  const { type } = envelope;
  try {
    if (isOneOf(INVOICE_EVENT_TYPES, type)) return { kind: 'invoice', envelope, type, invoice: readInvoice(envelope.data.object) };
    if (isOneOf(SUBSCRIPTION_EVENT_TYPES, type)) return { kind: 'subscription', envelope, type, subscription: readSubscription(envelope.data.object) };
  } catch (error) {
    throw shapeError(error, `${type} ${envelope.id}: data.object does not have the shape of API ${PINNED_API_VERSION}`);
  }
  return { kind: 'unhandled', envelope };
}

function shapeError(error: unknown, context: string): Error {
  return error instanceof FieldError ? new EventShapeError(`${context}: ${error.message}`) : (error as Error);
}

function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}
