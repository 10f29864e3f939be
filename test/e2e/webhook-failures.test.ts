import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { webhookEventKey } from '../../src/records/keys.js';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy.js';
import { startMoto, type Moto } from '../support/moto.js';
import { fixtureEvent, signedDelivery } from '../support/stripeEvents.js';
import { deployHarness, type WebhookHarness } from '../support/webhookHarness.js';
import { buildWebhookBundle } from '../support/webhookLambda.js';

const SECRET = 'whsec_failuresSecret0123456789abcdef';

let moto: Moto;
let bundle: string;
let dynamoFaults: FaultProxy;
let snsFaults: FaultProxy;
let harness: WebhookHarness;

beforeAll(async () => {
  moto = await startMoto();
  bundle = buildWebhookBundle();
  dynamoFaults = await startFaultProxy(moto.endpoint);
  snsFaults = await startFaultProxy(moto.endpoint);
});
afterAll(async () => {
  await dynamoFaults?.stop();
  await snsFaults?.stop();
  await moto?.stop();
});
beforeEach(async () => {
  dynamoFaults.disarm();
  snsFaults.disarm();
  harness = await deployHarness(moto, bundle, { secretValue: SECRET, handlerDynamoEndpoint: dynamoFaults.endpoint, snsEndpoint: snsFaults.endpoint });
});

const event = fixtureEvent('invoice.paid');
const payload = JSON.stringify(event);
const invoiceId = event.data.object.id;
const deliver = () => harness.deliver(signedDelivery(payload, SECRET));
const marker = async () =>
  (await harness.documents.send(new GetCommand({ TableName: harness.resources.billingTable, Key: webhookEventKey(event.id), ConsistentRead: true }))).Item;

describe('billing-handler bundle: transient failures', () => {
  it('answers 500 while DynamoDB is down, writes nothing, and the redelivery then applies the event once', async () => {
    dynamoFaults.failWhen(() => true);

    const failed = await deliver();

    expect(failed.statusCode).toBe(500);
    expect(dynamoFaults.failures).toBeGreaterThan(0);
    expect(await harness.itemCount()).toBe(0);
    expect(await harness.messages()).toHaveLength(0);

    dynamoFaults.disarm();
    const retried = await deliver();
    expect(retried.statusCode).toBe(200);
    expect(JSON.parse(retried.body).outcome).toBe('processed');
    expect(await harness.invoice(invoiceId)).toMatchObject({ status: 'paid', lastEventId: event.id });
    expect(await harness.messages()).toHaveLength(1);
  });

  it('answers 500 when the invoice write fails (before the marker is written) and the redelivery succeeds with one effect', async () => {
    dynamoFaults.failWhen(({ body }) => body.includes(`INVOICE#${invoiceId}`));

    const failed = await deliver();

    expect(failed.statusCode).toBe(500);
    expect(await harness.invoice(invoiceId)).toBeUndefined();
    expect(await marker()).toBeUndefined();

    dynamoFaults.disarm();
    expect((await deliver()).statusCode).toBe(200);
    expect((await deliver()).statusCode).toBe(200);
    expect(await harness.invoice(invoiceId)).toMatchObject({ status: 'paid' });
    expect(await marker()).toMatchObject({ status: 'done', attempts: 1, effectApplied: true });
    expect((await harness.messages()).map((m) => m.attributes.type)).toEqual(['payment-succeeded']);
  });

  it('answers 500 when SNS fails after the effect, and the redelivery publishes once without writing again', async () => {
    snsFaults.failWhen(({ target }) => target === 'Publish');

    const failed = await deliver();

    expect(failed.statusCode).toBe(500);
    expect(snsFaults.failures).toBeGreaterThan(0);
    const afterFailure = await harness.invoice(invoiceId);
    expect(afterFailure).toMatchObject({ status: 'paid' });
    expect(await marker()).toMatchObject({ status: 'claimed', effectApplied: true, notification: { attributes: { type: 'payment-succeeded' } } });
    expect(await harness.messages()).toHaveLength(0);

    snsFaults.disarm();
    const retried = await deliver();
    expect(retried.statusCode).toBe(200);
    expect((await harness.messages()).map((m) => m.attributes.type)).toEqual(['payment-succeeded']);
    // The effect was recorded on the marker, so the retry did not write the invoice again.
    expect((await harness.invoice(invoiceId))?.updatedAt).toBe(afterFailure?.updatedAt);
    expect(await marker()).toMatchObject({ status: 'done', attempts: 2, messageId: expect.any(String) });
  });

  it('refuses a redelivery while a claim is live, then takes over a claim whose delivery died mid-way and finishes it once', async () => {
    // The first delivery crashes after the effect: its completion write never lands and neither does the release.
    dynamoFaults.failWhen(({ body }) => body.includes('completedAt') || body.includes(':expired'));
    snsFaults.failWhen(({ target }) => target === 'Publish');

    expect((await deliver()).statusCode).toBe(500);
    const stuck = await marker();
    expect(stuck).toMatchObject({ status: 'claimed', effectApplied: true });
    expect(stuck?.leaseUntil).toBeGreaterThan(0); // never released

    dynamoFaults.disarm();
    snsFaults.disarm();
    const whileLeased = await deliver();
    expect(whileLeased.statusCode).toBe(500);
    expect(JSON.parse(whileLeased.body).error).toMatch(/another delivery/);

    // Stripe retries minutes later; by then the 60 s lease has run out.
    await harness.documents.send(
      new UpdateCommand({
        TableName: harness.resources.billingTable,
        Key: webhookEventKey(event.id),
        UpdateExpression: 'SET leaseUntil = :past',
        ExpressionAttributeValues: { ':past': Date.now() - 1 },
      }),
    );
    expect((await deliver()).statusCode).toBe(200);
    expect(await harness.invoice(invoiceId)).toMatchObject({ status: 'paid' });
    expect(await harness.messages()).toHaveLength(1);
    expect(await marker()).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('answers 500 when the secret parameter cannot be read, and recovers once SSM answers', async () => {
    harness.coldStart({ WEBHOOK_SECRET_PARAMETER: '/stripe/does-not-exist' });

    const failed = await deliver();

    expect(failed.statusCode).toBe(500);
    expect(JSON.parse(failed.body).error).toBe('webhook event failed; Stripe will retry');
    expect(harness.output.some((line) => line.includes('SSM parameter /stripe/does-not-exist does not exist'))).toBe(true);
    expect(await harness.itemCount()).toBe(0);

    harness.coldStart();
    expect((await deliver()).statusCode).toBe(200);
  });

  it('answers 500 with a message naming the variable when the environment is incomplete', async () => {
    harness.coldStart({ BILLING_TABLE: '' });

    const failed = await deliver();

    expect(failed.statusCode).toBe(500);
    expect(harness.output.some((line) => line.includes('BILLING_TABLE: set it to the DynamoDB table name'))).toBe(true);
  });
});
