import { describe, expect, it } from 'vitest';
import { alertNotification } from '../../src/alerts/dispatch.js';
import { notification } from '../../src/webhooks/notifications.js';
import { budgetAlert } from '../support/alerts.js';

describe('one attribute scheme on the billing topic', () => {
  it('lets one filter policy on type and customer select budget alerts and webhook notifications alike', () => {
    const alert = alertNotification(budgetAlert({ scopeName: 'Acme Corp', estimated: false }));
    const payment = notification(
      'payment-failed',
      'Payment failed',
      { eventId: 'evt_1', eventType: 'invoice.payment_failed', livemode: false, stripeCustomerId: 'cus_1', customerId: 'acme' },
      {},
    );
    for (const n of [alert, payment]) {
      expect(n.attributes.customer).toBe('acme');
      expect(n.attributes.type).toMatch(/^[a-z]+(-[a-z]+)+$/);
      expect(Object.keys(n.attributes).length).toBeLessThanOrEqual(10);
    }
    expect([alert.attributes.type, payment.attributes.type]).toEqual(['budget-alert', 'payment-failed']);
  });
});
