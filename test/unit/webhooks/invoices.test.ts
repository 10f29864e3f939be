import { describe, expect, it } from 'vitest';
import { INVOICE_EVENT_TYPES, parseEvent, type InvoiceEventType } from '../../../src/webhooks/events.js';
import { INVOICE_STATUS_BY_EVENT, invoiceNotification, invoiceUpdateFrom } from '../../../src/webhooks/invoices.js';
import { INVOICE_STATUS_RANK } from '../../../src/records/schema.js';
import { fixtureEvent } from '../../support/stripeEvents.js';

function updateFor(type: InvoiceEventType) {
  const event = parseEvent({ ...fixtureEvent('invoice.paid'), type, id: `evt_${type.replace(/\W/g, '')}` });
  if (event.kind !== 'invoice') throw new Error('expected an invoice event');
  return invoiceUpdateFrom({ id: event.envelope.id, type: event.type, created: event.envelope.created }, event.invoice);
}

describe('invoiceUpdateFrom', () => {
  it('maps every handled invoice event to a status and its rank', () => {
    for (const type of INVOICE_EVENT_TYPES) {
      const update = updateFor(type);
      expect(update.status).toBe(INVOICE_STATUS_BY_EVENT[type]);
      expect(update.statusRank).toBe(INVOICE_STATUS_RANK[update.status]);
    }
  });

  it('ranks a payment above a failure, so a late failure cannot undo it', () => {
    expect(updateFor('invoice.paid').statusRank).toBeGreaterThan(updateFor('invoice.payment_failed').statusRank);
    expect(updateFor('invoice.payment_failed').statusRank).toBeGreaterThan(updateFor('invoice.finalized').statusRank);
  });

  it('carries amounts in minor units, the subscription and the hosted invoice link', () => {
    expect(updateFor('invoice.paid')).toMatchObject({
      invoiceId: 'in_1SwYb32eZvKYlo2CQr5sT6uV',
      stripeCustomerId: 'cus_TqW3r8Xb2LmNoP',
      amountDue: 12345,
      amountPaid: 12345,
      currency: 'usd',
      subscriptionId: 'sub_1SwXyZ2eZvKYlo2C8a7bQ4rT',
      invoiceNumber: 'ACME-0042',
      hostedInvoiceUrl: expect.stringContaining('invoice.stripe.com'),
    });
  });
});

describe('invoiceNotification', () => {
  it('announces the change to paid with the amount paid, formatted in the invoice currency', () => {
    const notification = invoiceNotification(updateFor('invoice.paid'), { applied: true, previous: { status: 'open', customerId: 'acme' } }, false);
    expect(notification?.subject).toBe('Payment succeeded: invoice ACME-0042 ($123.45)');
    expect(notification?.attributes).toMatchObject({
      type: 'payment-succeeded',
      customer: 'acme',
      livemode: 'false',
      invoiceId: 'in_1SwYb32eZvKYlo2CQr5sT6uV',
    });
  });

  it('stays silent for the second of invoice.payment_succeeded and invoice.paid', () => {
    expect(invoiceNotification(updateFor('invoice.paid'), { applied: true, previous: { status: 'paid', lastEventId: 'evt_other' } }, false)).toBeUndefined();
  });

  it('announces again when the same event is re-applied after a crash, so the retry still notifies', () => {
    const update = updateFor('invoice.paid');
    expect(invoiceNotification(update, { applied: true, previous: { status: 'paid', lastEventId: update.eventId } }, false)?.attributes.type).toBe(
      'payment-succeeded',
    );
  });

  it('announces every failed attempt until the invoice is settled, also one that leaves an overdue invoice overdue', () => {
    const failed = updateFor('invoice.payment_failed');
    expect(invoiceNotification(failed, { applied: true, previous: { status: 'payment_failed', lastEventId: 'evt_first' } }, false)?.subject).toBe(
      'Payment failed: invoice ACME-0042 ($123.45 due)',
    );
    for (const status of ['overdue', 'uncollectible', 'payment_failed'] as const) {
      expect(invoiceNotification(failed, { applied: false, stored: { status, customerId: 'acme' } }, false)?.attributes, status).toMatchObject({
        type: 'payment-failed',
        customer: 'acme',
      });
    }
    for (const status of ['paid', 'void'] as const) expect(invoiceNotification(failed, { applied: false, stored: { status } }, false), status).toBeUndefined();
  });

  it('announces nothing else for an update that was not applied', () => {
    expect(invoiceNotification(updateFor('invoice.paid'), { applied: false, stored: { status: 'void' } }, false)).toBeUndefined();
    expect(invoiceNotification(updateFor('invoice.overdue'), { applied: false, stored: { status: 'paid' } }, false)).toBeUndefined();
  });

  it('has nothing to say about finalized, voided or uncollectible invoices', () => {
    for (const type of ['invoice.finalized', 'invoice.voided', 'invoice.marked_uncollectible'] as const) {
      expect(invoiceNotification(updateFor(type), { applied: true }, false)).toBeUndefined();
    }
    expect(invoiceNotification(updateFor('invoice.overdue'), { applied: true }, true)?.attributes).toMatchObject({ type: 'invoice-overdue', livemode: 'true' });
  });
});
