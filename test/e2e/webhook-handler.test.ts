import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { invoiceByCustomerKey, invoiceKey } from '../../src/records/keys.js';
import { startMoto, type Moto } from '../support/moto.js';
import { fixtureEvent, signedDelivery, withIds } from '../support/stripeEvents.js';
import { deployHarness, type WebhookHarness } from '../support/webhookHarness.js';
import { buildWebhookBundle } from '../support/webhookLambda.js';

const SECRET = 'whsec_e2eHandlerSecret0123456789abcdef';

let moto: Moto;
let bundle: string;
let harness: WebhookHarness;

beforeAll(async () => {
  moto = await startMoto();
  bundle = buildWebhookBundle();
});
afterAll(async () => moto?.stop());
beforeEach(async () => {
  harness = await deployHarness(moto, bundle, { secretValue: SECRET });
});

const deliver = (event: object, options: Parameters<typeof signedDelivery>[2] = {}) => harness.deliver(signedDelivery(JSON.stringify(event), SECRET, options));

describe('billing-handler bundle: invoices', () => {
  it("moves the billing action's invoice record to paid, keeps its customer data and announces the payment once", async () => {
    const event = fixtureEvent('invoice.paid.one-off');
    const invoiceId = event.data.object.id;
    await harness.documents.send(
      new PutCommand({
        TableName: harness.resources.billingTable,
        Item: {
          ...invoiceKey(invoiceId),
          ...invoiceByCustomerKey('acme', '2026-10', invoiceId),
          recordType: 'invoice',
          invoiceId,
          stripeCustomerId: 'cus_TqW3r8Xb2LmNoP',
          customerId: 'acme',
          period: '2026-10',
          ledgerEntry: 'acme#2026-10#1',
          amountDue: 80000,
          currency: 'usd',
          status: 'open',
          statusRank: 1,
          createdAt: '2026-11-01T06:00:00.000Z',
          updatedAt: '2026-11-01T06:00:00.000Z',
        },
      }),
    );

    const response = await deliver(event);

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ received: true, outcome: 'processed' });
    expect(await harness.invoice(invoiceId)).toMatchObject({
      status: 'paid',
      statusRank: 5,
      amountPaid: 80000,
      customerId: 'acme',
      period: '2026-10',
      ledgerEntry: 'acme#2026-10#1',
      gsi1pk: 'CUSTOMER#acme',
      createdAt: '2026-11-01T06:00:00.000Z',
      lastEventId: event.id,
      invoiceNumber: 'ACME-0043',
    });
    const messages = await harness.messages();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.attributes).toMatchObject({ type: 'payment-succeeded', customer: 'acme', invoiceId, eventId: event.id, eventType: 'invoice.paid' });
    expect(JSON.parse(messages[0]?.message ?? '{}')).toMatchObject({ amountPaid: 80000, currency: 'usd', status: 'paid' });
  });

  it('creates a record for an invoice made outside this system, with its subscription from parent.subscription_details', async () => {
    const event = fixtureEvent('invoice.finalized');

    expect((await deliver(event)).statusCode).toBe(200);

    expect(await harness.invoice(event.data.object.id)).toMatchObject({
      recordType: 'invoice',
      status: 'open',
      statusRank: 1,
      stripeCustomerId: 'cus_TqW3r8Xb2LmNoP',
      amountDue: 12345,
      subscriptionId: 'sub_1SwXyZ2eZvKYlo2C8a7bQ4rT',
      hostedInvoiceUrl: expect.stringMatching(/^https:\/\/invoice\.stripe\.com\//),
    });
    expect(await harness.invoice(event.data.object.id)).not.toHaveProperty('customerId');
    expect(await harness.messages()).toHaveLength(0);
  });

  it('never lets a late payment_failed turn a paid invoice back, and says nothing about it', async () => {
    expect((await deliver(fixtureEvent('invoice.paid'))).statusCode).toBe(200);
    expect((await deliver(fixtureEvent('invoice.payment_failed'))).statusCode).toBe(200);
    expect((await deliver(fixtureEvent('invoice.finalized'))).statusCode).toBe(200);

    expect(await harness.invoice(fixtureEvent('invoice.paid').data.object.id)).toMatchObject({ status: 'paid', lastEventType: 'invoice.paid' });
    expect((await harness.messages()).map((m) => m.attributes.type)).toEqual(['payment-succeeded']);
  });

  it('announces a payment once although Stripe sends both invoice.payment_succeeded and invoice.paid', async () => {
    expect((await deliver(fixtureEvent('invoice.payment_succeeded'))).statusCode).toBe(200);
    expect((await deliver(fixtureEvent('invoice.paid'))).statusCode).toBe(200);

    expect((await harness.messages()).map((m) => m.attributes.type)).toEqual(['payment-succeeded']);
  });

  it('announces each failed payment attempt and an overdue invoice, with filterable attributes', async () => {
    const second = {
      ...fixtureEvent('invoice.payment_failed'),
      id: 'evt_1SwYd22eZvKYlo2CpAyFa1l2',
      created: fixtureEvent('invoice.payment_failed').created + 86000,
    };
    for (const event of [fixtureEvent('invoice.finalized'), fixtureEvent('invoice.payment_failed'), second, fixtureEvent('invoice.overdue')]) {
      expect((await deliver(event)).statusCode).toBe(200);
    }
    expect(await harness.invoice(second.data.object.id)).toMatchObject({ status: 'overdue' });
    expect((await harness.messages()).map((m) => [m.attributes.type, m.attributes.eventId])).toEqual([
      ['payment-failed', 'evt_1SwYd22eZvKYlo2CpAyFa1l1'],
      ['payment-failed', second.id],
      ['invoice-overdue', fixtureEvent('invoice.overdue').id],
    ]);
  });

  it('announces a failed attempt on an overdue invoice and keeps it overdue', async () => {
    const overdue = fixtureEvent('invoice.overdue');
    const laterFailure = { ...fixtureEvent('invoice.payment_failed'), id: 'evt_1SwYd22eZvKYlo2CpAyFa1l3', created: overdue.created + 3600 };
    for (const event of [fixtureEvent('invoice.finalized'), overdue, laterFailure]) expect((await deliver(event)).statusCode).toBe(200);

    expect(await harness.invoice(overdue.data.object.id)).toMatchObject({ status: 'overdue', lastEventId: overdue.id });
    expect((await harness.messages()).map((m) => [m.attributes.type, m.attributes.eventId])).toEqual([
      ['invoice-overdue', overdue.id],
      ['payment-failed', laterFailure.id],
    ]);
  });
});

describe('billing-handler bundle: exactly-once effects', () => {
  it('applies one event delivered 5 times at once exactly once: one effect, one notification', async () => {
    const event = fixtureEvent('invoice.paid');
    const payload = JSON.stringify(event);

    const responses = await Promise.all(Array.from({ length: 5 }, () => harness.deliver(signedDelivery(payload, SECRET))));

    const outcomes = responses.map((response) => `${response.statusCode} ${JSON.parse(response.body).outcome ?? 'in_progress'}`);
    expect(outcomes.filter((outcome) => outcome === '200 processed')).toHaveLength(1);
    expect(outcomes.every((outcome) => ['200 processed', '200 duplicate', '500 in_progress'].includes(outcome))).toBe(true);
    expect(await harness.messages()).toHaveLength(1);
    const marker = harness.output.map((line) => JSON.parse(line)).filter((line) => line.eventId === event.id && line.outcome === 'processed');
    expect(marker).toHaveLength(1);

    const redelivery = await harness.deliver(signedDelivery(payload, SECRET));
    expect(redelivery.statusCode).toBe(200);
    expect(JSON.parse(redelivery.body).outcome).toBe('duplicate');
    expect(await harness.messages()).toHaveLength(1);
    expect(await harness.invoice(event.data.object.id)).toMatchObject({ status: 'paid', lastEventId: event.id });
  });

  it('acknowledges event types it does not handle without writing anything', async () => {
    const response = await deliver(fixtureEvent('charge.succeeded'));

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).outcome).toBe('ignored');
    expect(await harness.itemCount()).toBe(0);
    expect(harness.output.some((line) => line.includes('"eventType":"charge.succeeded"') && line.includes('not handled'))).toBe(true);
  });

  it('verifies a base64-encoded body on its decoded bytes', async () => {
    const event = withIds(fixtureEvent('invoice.finalized'), { evt_1SwYc12eZvKYlo2CfIn4l1zd: 'evt_base64Body0001' });

    const response = await deliver(event, { base64: true });

    expect(response.statusCode).toBe(200);
    expect(await harness.invoice(event.data.object.id)).toMatchObject({ status: 'open' });
  });
});

describe('billing-handler bundle: subscriptions', () => {
  it('stores the subscription snapshot with items, prices, period, trial and cancellation, and announces creation', async () => {
    const event = fixtureEvent('customer.subscription.created');

    expect((await deliver(event)).statusCode).toBe(200);

    expect(await harness.subscription('sub_1SwXyZ2eZvKYlo2C8a7bQ4rT')).toMatchObject({
      recordType: 'subscription',
      stripeCustomerId: 'cus_TqW3r8Xb2LmNoP',
      status: 'trialing',
      cancelAtPeriodEnd: false,
      items: [
        {
          itemId: 'si_TqW5xY6zA7bC8d',
          priceId: 'price_1SwXa12eZvKYlo2CkLmN0pQr',
          productId: 'prod_TqW1aB2cD3eF4g',
          quantity: 1,
          currentPeriodStart: event.created - 10,
          currentPeriodEnd: event.created - 10 + 1209600,
        },
      ],
      currentPeriodStart: event.created - 10,
      trialEnd: event.created - 10 + 1209600,
      lastEventId: event.id,
    });
    const [message] = await harness.messages();
    expect(message?.attributes).toMatchObject({ type: 'subscription-created', subscriptionId: 'sub_1SwXyZ2eZvKYlo2C8a7bQ4rT', customer: 'acme' });
  });

  it('keeps the newer snapshot when an older update arrives late', async () => {
    expect((await deliver(fixtureEvent('customer.subscription.updated.active'))).statusCode).toBe(200);
    expect((await deliver(fixtureEvent('customer.subscription.updated.quantity'))).statusCode).toBe(200);

    expect(await harness.subscription('sub_1SwXyZ2eZvKYlo2C8a7bQ4rT')).toMatchObject({
      status: 'active',
      lastEventId: fixtureEvent('customer.subscription.updated.active').id,
    });
  });

  it('stores a pause and the resume after it, and announces neither', async () => {
    const paused = fixtureEvent('customer.subscription.paused');
    const resumed = fixtureEvent('customer.subscription.resumed');
    const subscriptionId = paused.data.object.id;

    const pausedResponse = await deliver(paused);
    expect(pausedResponse.statusCode).toBe(200);
    expect(JSON.parse(pausedResponse.body)).toEqual({ received: true, outcome: 'processed' });
    expect(await harness.subscription(subscriptionId)).toMatchObject({
      recordType: 'subscription',
      stripeCustomerId: 'cus_TqX7kP4mWn2RsT',
      status: 'paused',
      currentPeriodEnd: paused.created,
      lastEventId: paused.id,
      lastEventType: 'customer.subscription.paused',
    });

    expect((await deliver(resumed)).statusCode).toBe(200);
    expect(await harness.subscription(subscriptionId)).toMatchObject({
      status: 'active',
      currentPeriodStart: resumed.created,
      lastEventId: resumed.id,
      lastEventType: 'customer.subscription.resumed',
    });
    expect(await harness.messages()).toEqual([]);
  });
});

describe('billing-handler bundle: observability', () => {
  it('logs JSON lines with event id and type and writes embedded-format metrics, never the secret', async () => {
    await deliver(fixtureEvent('invoice.paid'));
    await deliver(fixtureEvent('invoice.paid'));
    await harness.deliver(signedDelivery(JSON.stringify(fixtureEvent('invoice.paid')), 'whsec_wrong'));

    const lines = harness.output.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line.message === 'webhook event processed')).toMatchObject({
      level: 'info',
      eventId: fixtureEvent('invoice.paid').id,
      eventType: 'invoice.paid',
      statusCode: 200,
    });
    const metrics = lines.filter((line) => '_aws' in line);
    expect(metrics.map((line) => [line.Outcome, line.Duplicates, line.SignatureFailures])).toEqual([
      ['processed', 0, 0],
      ['duplicate', 1, 0],
      ['rejected', 0, 1],
    ]);
    expect(metrics[0]).toMatchObject({
      EventType: 'invoice.paid',
      Events: 1,
      _aws: {
        CloudWatchMetrics: [
          { Namespace: 'StripeBillingWebhook', Dimensions: [['Service']] },
          {
            Namespace: 'StripeBillingWebhook',
            Dimensions: [
              ['Service', 'Outcome'],
              ['Service', 'EventType'],
            ],
          },
        ],
      },
    });
    expect(typeof metrics[0]?.Latency).toBe('number');
    expect(harness.output.join('\n')).not.toContain(SECRET);
  });

  it('with WEBHOOK_METRICS=off (the basic monitoring of infrastructure.yaml) writes no metrics, only the log line naming outcome and event type', async () => {
    harness.coldStart({ WEBHOOK_METRICS: 'off' });
    try {
      const before = harness.output.length;
      const event = { ...fixtureEvent('invoice.paid'), id: 'evt_metrics_off' };
      expect((await deliver(event)).statusCode).toBe(200);
      await harness.deliver(signedDelivery(JSON.stringify(event), 'whsec_wrong'));
      const lines = harness.output.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.filter((line) => '_aws' in line)).toEqual([]);
      expect(harness.output.slice(before).join('\n')).not.toContain('StripeBillingWebhook');
      expect(lines.map((line) => [line.outcome, line.eventType ?? null, line.statusCode])).toEqual([
        ['processed', 'invoice.paid', 200],
        ['rejected', null, 400],
      ]);
    } finally {
      harness.coldStart();
    }
  });
});
