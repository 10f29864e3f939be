import { describe, expect, it } from 'vitest';
import { EventShapeError, HANDLED_EVENT_TYPES, parseEvent } from '../../../src/webhooks/events.js';
import { fixtureEvent, type FixtureName } from '../../support/stripeEvents.js';

const FIXTURES: readonly FixtureName[] = [
  'invoice.finalized',
  'invoice.paid',
  'invoice.paid.one-off',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
  'invoice.overdue',
  'invoice.voided',
  'invoice.marked_uncollectible',
  'customer.subscription.created',
  'customer.subscription.updated.quantity',
  'customer.subscription.trial_will_end',
  'customer.subscription.updated.active',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.resumed',
];

describe('parseEvent', () => {
  it.each(FIXTURES)('reads the %s fixture of API 2026-10-28.endive', (name) => {
    const event = parseEvent(fixtureEvent(name));
    expect(event.kind).toBe(name.startsWith('invoice') ? 'invoice' : 'subscription');
    expect(HANDLED_EVENT_TYPES).toContain(event.envelope.type);
  });

  it("takes an invoice's subscription from parent.subscription_details, the only place it lives since basil", () => {
    expect(fixtureEvent('invoice.paid').data.object).not.toHaveProperty('subscription');
    const event = parseEvent(fixtureEvent('invoice.paid'));
    expect(event.kind === 'invoice' && event.invoice.parent?.subscription_details?.subscription).toBe('sub_1SwXyZ2eZvKYlo2C8a7bQ4rT');
  });

  it('accepts an expanded customer object and keeps its id', () => {
    const raw = fixtureEvent('invoice.paid');
    raw.data.object.customer = { id: 'cus_Expanded1', object: 'customer' };
    const event = parseEvent(raw);
    expect(event.kind === 'invoice' && event.invoice.customer).toBe('cus_Expanded1');
  });

  it('routes an event type it does not handle as unhandled instead of failing', () => {
    expect(parseEvent(fixtureEvent('charge.succeeded')).kind).toBe('unhandled');
  });

  it('names the field that is missing when a handled event has an unexpected shape', () => {
    const raw = fixtureEvent('customer.subscription.updated.active');
    delete raw.data.object.items;
    expect(() => parseEvent(raw)).toThrow(EventShapeError);
    expect(() => parseEvent(raw)).toThrow(
      /customer\.subscription\.updated evt_\w+: data\.object does not have the shape of API 2026-10-28\.endive: data\.object\.items: expected an object/,
    );
  });

  it('names the nested field, with its index, that has the wrong type', () => {
    const raw = fixtureEvent('customer.subscription.created');
    (raw.data.object.items as { data: Array<Record<string, unknown>> }).data[0]!.current_period_end = '2026-12-01';
    expect(() => parseEvent(raw)).toThrow(/data\.object\.items\.data\.0\.current_period_end: expected a whole number/);
  });

  it('refuses JSON that is not an event', () => {
    expect(() => parseEvent({ id: 'in_1', object: 'invoice' })).toThrow(/body is not a Stripe event/);
    expect(() => parseEvent([1, 2])).toThrow(EventShapeError);
  });
});
