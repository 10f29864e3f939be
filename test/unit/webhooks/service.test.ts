import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { memoryWebhookStore } from '../../../src/store/memoryWebhookStore.js';
import { stripeSignatureVerifier } from '../../../src/stripe/webhookSignature.js';
import { createWebhookService, type WebhookServiceDeps } from '../../../src/webhooks/service.js';
import type { DeliveryMetrics } from '../../../src/webhooks/telemetry.js';
import { fixtureEvent } from '../../support/stripeEvents.js';

const SECRET = 'whsec_serviceUnit';

function service(overrides: Partial<WebhookServiceDeps> = {}) {
  const store = memoryWebhookStore();
  const metrics: DeliveryMetrics[] = [];
  const logs: Array<{ level: string; message: string; fields: unknown }> = [];
  const webhooks = createWebhookService({
    ...store,
    publish: async () => ({ messageId: 'm-1' }),
    secrets: async () => [SECRET],
    verify: stripeSignatureVerifier,
    telemetry: { log: (level, message, fields) => logs.push({ level, message, fields }), delivery: (m) => metrics.push(m) },
    clock: Date.now,
    maxBodyBytes: 64 * 1024,
    ...overrides,
  });
  return { webhooks, store, metrics, logs };
}

const delivery = (payload: string, secret = SECRET) => ({
  headers: { 'Stripe-Signature': Stripe.webhooks.generateTestHeaderString({ payload, secret }) },
  body: payload,
  isBase64Encoded: false,
});

describe('createWebhookService().handleDelivery', () => {
  it('answers 200 with the outcome, reading the signature header in any letter case', async () => {
    const { webhooks, store } = service();
    const response = await webhooks.handleDelivery(delivery(JSON.stringify(fixtureEvent('invoice.finalized'))));
    expect(response).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"received":true,"outcome":"processed"}' });
    expect(store.invoiceRecords.size).toBe(1);
  });

  it('answers 413 before loading secrets for a body over the limit', async () => {
    let secretLoads = 0;
    const { webhooks, metrics } = service({ maxBodyBytes: 10, secrets: async () => (secretLoads++, [SECRET]) });
    const response = await webhooks.handleDelivery(delivery('{"id":"evt_toolong"}'));
    expect(response.statusCode).toBe(413);
    expect(secretLoads).toBe(0);
    expect(metrics[0]).toMatchObject({ outcome: 'too_large', signatureFailure: false });
  });

  it('answers 500 when the secrets cannot be loaded, so Stripe retries, and logs the cause but does not answer it', async () => {
    const { webhooks, logs } = service({ secrets: async () => Promise.reject(new Error('SSM is throttling')) });
    const response = await webhooks.handleDelivery(delivery(JSON.stringify(fixtureEvent('invoice.paid'))));
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('SSM');
    expect(logs[0]).toMatchObject({ level: 'error', fields: { reason: 'could not load the webhook signing secrets: SSM is throttling' } });
  });

  it('answers 500 when storage fails and logs which event failed', async () => {
    const { webhooks, store, logs } = service();
    const failing = service({ ...store, invoices: { applyInvoiceUpdate: () => Promise.reject(new Error('ProvisionedThroughputExceeded')) } });
    const response = await failing.webhooks.handleDelivery(delivery(JSON.stringify(fixtureEvent('invoice.paid'))));
    expect(response.statusCode).toBe(500);
    expect(failing.logs[0]).toMatchObject({
      level: 'error',
      fields: { eventId: fixtureEvent('invoice.paid').id, eventType: 'invoice.paid', outcome: 'failed' },
    });
    expect((await webhooks.handleDelivery(delivery(JSON.stringify(fixtureEvent('invoice.paid'))))).statusCode).toBe(200);
    expect(logs[0]).toMatchObject({ level: 'info' });
  });

  it('warns when an event was rendered with another API version, and still handles it', async () => {
    const { webhooks, logs } = service();
    const response = await webhooks.handleDelivery(delivery(JSON.stringify({ ...fixtureEvent('invoice.finalized'), api_version: '2025-03-31.basil' })));
    expect(response.statusCode).toBe(200);
    expect(logs[0]).toMatchObject({ level: 'warn', fields: { apiVersion: '2025-03-31.basil', pinnedApiVersion: '2026-10-28.endive' } });
  });
});
