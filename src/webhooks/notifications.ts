import type { Notification } from './ports.js';

/** What subscribers of the billing topic can filter on with the `type` message attribute (as alerts and billing notices). */
export type NotificationKind =
  'payment-succeeded' | 'payment-failed' | 'invoice-overdue' | 'subscription-created' | 'subscription-canceled' | 'subscription-trial-ending';

export interface NotificationSubject {
  readonly eventId: string;
  readonly eventType: string;
  readonly livemode: boolean;
  readonly stripeCustomerId: string;
  readonly customerId?: string;
  readonly invoiceId?: string;
  readonly subscriptionId?: string;
}

/**
 * A notification whose attributes name the event, so a subscriber can filter by kind or customer and drop the
 * rare repeat (same `eventId`) that a crash between publishing and recording it can cause.
 */
export function notification(
  kind: NotificationKind,
  subject: string,
  about: NotificationSubject,
  details: Readonly<Record<string, string | number | boolean>>,
): Notification {
  const attributes: Record<string, string> = {
    type: kind,
    eventId: about.eventId,
    eventType: about.eventType,
    livemode: String(about.livemode),
    stripeCustomerId: about.stripeCustomerId,
  };
  if (about.customerId) attributes.customer = about.customerId;
  if (about.invoiceId) attributes.invoiceId = about.invoiceId;
  if (about.subscriptionId) attributes.subscriptionId = about.subscriptionId;
  return { subject, message: JSON.stringify({ ...attributes, livemode: about.livemode, ...details }), attributes };
}
