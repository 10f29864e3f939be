import { z } from 'zod';

/**
 * The parts of Stripe events (API 2026-10-28.endive) the handler relies on. Parsed with a schema rather than
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

/** A Stripe id field that may arrive expanded into an object. */
const stripeId = z.union([z.string(), z.object({ id: z.string() }).transform((expanded) => expanded.id)]);

export const eventEnvelopeSchema = z.object({
  id: z.string().regex(/^evt_\w+$/, 'an event id such as evt_1Q2w3E'),
  object: z.literal('event'),
  type: z.string().min(1),
  created: z.number().int().positive(),
  api_version: z.string().nullable().optional(),
  livemode: z.boolean(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

export type StripeEventEnvelope = z.infer<typeof eventEnvelopeSchema>;

export const invoiceSchema = z.object({
  id: z.string().regex(/^in_\w+$/, 'an invoice id such as in_1Q2w3E'),
  object: z.literal('invoice'),
  customer: stripeId,
  status: z.string().nullable(),
  amount_due: z.number().int(),
  amount_paid: z.number().int(),
  currency: z.string().regex(/^[a-z]{3}$/),
  hosted_invoice_url: z.string().nullable().optional(),
  number: z.string().nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  parent: z
    .object({
      subscription_details: z.object({ subscription: stripeId }).nullable().optional(),
    })
    .nullable()
    .optional(),
});

export type StripeInvoice = z.infer<typeof invoiceSchema>;

const subscriptionItemSchema = z.object({
  id: z.string(),
  quantity: z.number().int().optional(),
  current_period_start: z.number().int(),
  current_period_end: z.number().int(),
  price: z.object({ id: z.string(), product: stripeId }),
});

export const subscriptionSchema = z.object({
  id: z.string().regex(/^sub_\w+$/, 'a subscription id such as sub_1Q2w3E'),
  object: z.literal('subscription'),
  customer: stripeId,
  status: z.string().min(1),
  items: z.object({ data: z.array(subscriptionItemSchema) }),
  cancel_at: z.number().int().nullable(),
  cancel_at_period_end: z.boolean(),
  canceled_at: z.number().int().nullable(),
  ended_at: z.number().int().nullable(),
  trial_start: z.number().int().nullable(),
  trial_end: z.number().int().nullable(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
});

export type StripeSubscription = z.infer<typeof subscriptionSchema>;

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
  const envelope = eventEnvelopeSchema.safeParse(value);
  if (!envelope.success) throw new EventShapeError(`body is not a Stripe event: ${describeIssues(envelope.error)}`);
  const event = envelope.data;
  if (isOneOf(INVOICE_EVENT_TYPES, event.type)) {
    const invoice = invoiceSchema.safeParse(event.data.object);
    if (!invoice.success) throw new EventShapeError(`${event.type} ${event.id}: data.object is not an invoice of API ${PINNED_API_VERSION}: ${describeIssues(invoice.error)}`);
    return { kind: 'invoice', envelope: event, type: event.type, invoice: invoice.data };
  }
  if (isOneOf(SUBSCRIPTION_EVENT_TYPES, event.type)) {
    const subscription = subscriptionSchema.safeParse(event.data.object);
    if (!subscription.success) throw new EventShapeError(`${event.type} ${event.id}: data.object is not a subscription of API ${PINNED_API_VERSION}: ${describeIssues(subscription.error)}`);
    return { kind: 'subscription', envelope: event, type: event.type, subscription: subscription.data };
  }
  return { kind: 'unhandled', envelope: event };
}

function isOneOf<T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
