import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, type Moto } from '../support/moto.js';
import { fixtureEvent, nowSeconds, signedDelivery, stripeSignature } from '../support/stripeEvents.js';
import { deployHarness, type WebhookHarness } from '../support/webhookHarness.js';
import { buildWebhookBundle } from '../support/webhookLambda.js';
import type { HttpApiRequest } from '../../lambda/billing-handler/handler.js';

const SECRET = 'whsec_forgedInputsSecret0123456789ab';
const payload = JSON.stringify(fixtureEvent('invoice.paid'));

let moto: Moto;
let harness: WebhookHarness;

beforeAll(async () => {
  moto = await startMoto();
  harness = await deployHarness(moto, buildWebhookBundle(), { secretValue: SECRET, env: { MAX_BODY_BYTES: '65536' } });
});
afterAll(async () => moto?.stop());

const tampered = payload.replace('"amount_paid":12345', '"amount_paid":1');

const forgeries: Array<[string, () => HttpApiRequest, 400 | 413, RegExp]> = [
  ['a tampered body', () => ({ ...signedDelivery(payload, SECRET), body: tampered }), 400, /no v1 signature matches/],
  ['a body signed with another secret', () => signedDelivery(payload, 'whsec_someoneElsesSecret'), 400, /no v1 signature matches/],
  ['a stale timestamp (10 minutes old)', () => signedDelivery(payload, SECRET, { timestamp: nowSeconds() - 600 }), 400, /more than 300 s old/],
  ['a timestamp 10 minutes in the future', () => signedDelivery(payload, SECRET, { timestamp: nowSeconds() + 600 }), 400, /in the future/],
  ['no Stripe-Signature header', () => signedDelivery(payload, SECRET, { header: null }), 400, /no Stripe-Signature header/],
  ['a garbled header', () => signedDelivery(payload, SECRET, { header: 'sig=definitely-not-stripe' }), 400, /no t=<unix time> and v1=<hex> pair/],
  [
    'a header with a timestamp but no v1',
    () => signedDelivery(payload, SECRET, { header: `t=${nowSeconds()},v0=abcdef` }),
    400,
    /no t=<unix time> and v1=<hex> pair/,
  ],
  [
    'several v1 entries, none of them right',
    () => signedDelivery(payload, SECRET, { header: `t=${nowSeconds()},v1=${'0'.repeat(64)},v1=${'f'.repeat(64)}` }),
    400,
    /no v1 signature matches/,
  ],
  [
    'a base64 body whose decoded bytes were tampered with',
    () => ({ ...signedDelivery(payload, SECRET, { base64: true }), body: Buffer.from(tampered).toString('base64') }),
    400,
    /no v1 signature matches/,
  ],
  ['a plain body flagged as base64', () => ({ ...signedDelivery(payload, SECRET), isBase64Encoded: true }), 400, /no v1 signature matches/],
  [
    'a re-serialised body (pretty-printed JSON)',
    () => ({ ...signedDelivery(payload, SECRET), body: JSON.stringify(JSON.parse(payload), null, 2) }),
    400,
    /no v1 signature matches/,
  ],
  ['a body with a trailing newline added', () => ({ ...signedDelivery(payload, SECRET), body: `${payload}\n` }), 400, /no v1 signature matches/],
  ['a correctly signed body that is not JSON', () => signedDelivery('event=invoice.paid&id=evt_1', SECRET), 400, /not a JSON Stripe event/],
  [
    'a correctly signed JSON body that is not an event',
    () => signedDelivery(JSON.stringify({ id: 'in_123', object: 'invoice' }), SECRET),
    400,
    /not a Stripe event/,
  ],
  ['a correctly signed event whose invoice lacks its customer', () => signedDelivery(payload.replace(/"customer":"cus_\w+",/, ''), SECRET), 400, /customer/],
  ['an oversized body', () => signedDelivery(JSON.stringify({ ...JSON.parse(payload), padding: 'x'.repeat(70_000) }), SECRET), 413, /larger than 65536 bytes/],
  [
    'an oversized base64 body',
    () => signedDelivery(JSON.stringify({ ...JSON.parse(payload), padding: 'x'.repeat(70_000) }), SECRET, { base64: true }),
    413,
    /larger than 65536 bytes/,
  ],
];

describe('billing-handler bundle: forged and broken deliveries', () => {
  it.each(forgeries)('rejects %s with a generic answer, logs why, and writes nothing', async (_name, request, status, reason) => {
    const before = harness.output.length;
    const response = await harness.deliver(request());

    expect(response.statusCode).toBe(status);
    // The answer is generic; the reason is in the function's log only.
    expect(JSON.parse(response.body)).toEqual({ error: status === 413 ? 'webhook delivery rejected: body too large' : 'webhook delivery rejected' });
    const logged = harness.output.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged.find((line) => line.outcome !== undefined)).toMatchObject({ statusCode: status, reason: expect.stringMatching(reason) });
    expect(await harness.itemCount()).toBe(0);
    expect(await harness.messages()).toHaveLength(0);
  });

  it('counts signature failures in its metrics and never logs the secret or the signature', async () => {
    const before = harness.output.length;
    await harness.deliver(signedDelivery(payload, 'whsec_someoneElsesSecret'));
    const lines = harness.output.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);

    expect(lines.find((line) => '_aws' in line)).toMatchObject({ Outcome: 'rejected', SignatureFailures: 1, EventType: 'none' });
    expect(harness.output.join('\n')).not.toContain(SECRET);
    expect(harness.output.join('\n')).not.toMatch(/v1=[0-9a-f]{64}/);
  });

  it('still accepts the genuine delivery after all of that (the tests above are not rejecting everything)', async () => {
    const response = await harness.deliver(signedDelivery(payload, SECRET));

    expect(response.statusCode).toBe(200);
    expect(await harness.itemCount()).toBe(2);
    expect(stripeSignature(payload, SECRET)).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(tampered).not.toBe(payload);
  });
});
