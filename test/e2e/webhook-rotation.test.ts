import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMoto, TEST_CREDENTIALS, TEST_REGION, type Moto } from '../support/moto.js';
import { fixtureEvent, nowSeconds, signedDelivery, stripeSignature, withIds } from '../support/stripeEvents.js';
import { deployHarness } from '../support/webhookHarness.js';
import { buildWebhookBundle } from '../support/webhookLambda.js';

const OLD_SECRET = 'whsec_rotationOldSecret0123456789ab';
const NEW_SECRET = 'whsec_rotationNewSecret9876543210zy';

let moto: Moto;
let bundle: string;

beforeAll(async () => {
  moto = await startMoto();
  bundle = buildWebhookBundle();
});
afterAll(async () => moto?.stop());

/** A fresh event each time, so every accepted delivery is a first delivery. */
let serial = 0;
const freshEvent = () => JSON.stringify(withIds(fixtureEvent('invoice.finalized'), { evt_1SwYc12eZvKYlo2CfIn4l1zd: `evt_rotation${++serial}` }));

describe('billing-handler bundle: secret rotation', () => {
  it('accepts the old and the new secret during the overlap, from a comma-separated parameter', async () => {
    const harness = await deployHarness(moto, bundle, { secretValue: `${OLD_SECRET},${NEW_SECRET}` });

    expect((await harness.deliver(signedDelivery(freshEvent(), OLD_SECRET))).statusCode).toBe(200);
    expect((await harness.deliver(signedDelivery(freshEvent(), NEW_SECRET))).statusCode).toBe(200);
    expect((await harness.deliver(signedDelivery(freshEvent(), 'whsec_neitherOfThem'))).statusCode).toBe(400);
  });

  it('accepts a header carrying both signatures, as Stripe sends while a rolled secret expires', async () => {
    const harness = await deployHarness(moto, bundle, { secretValue: NEW_SECRET });
    const payload = freshEvent();
    const timestamp = nowSeconds();
    const oldSignature = stripeSignature(payload, OLD_SECRET, timestamp).split(',')[1];
    const newSignature = stripeSignature(payload, NEW_SECRET, timestamp).split(',')[1];

    const response = await harness.deliver(signedDelivery(payload, NEW_SECRET, { header: `t=${timestamp},${oldSignature},${newSignature}` }));

    expect(response.statusCode).toBe(200);
  });

  it('accepts newline-separated secrets with stray whitespace and a trailing newline in the parameter', async () => {
    const harness = await deployHarness(moto, bundle, { secretValue: `  ${OLD_SECRET}\r\n${NEW_SECRET}\n` });

    expect((await harness.deliver(signedDelivery(freshEvent(), OLD_SECRET))).statusCode).toBe(200);
    expect((await harness.deliver(signedDelivery(freshEvent(), NEW_SECRET))).statusCode).toBe(200);
  });

  it('keeps the cached secrets for the TTL and picks up a retired old secret after it', async () => {
    const harness = await deployHarness(moto, bundle, { secretValue: `${OLD_SECRET},${NEW_SECRET}`, env: { SECRET_CACHE_TTL_SECONDS: '3600' } });
    expect((await harness.deliver(signedDelivery(freshEvent(), OLD_SECRET))).statusCode).toBe(200);

    const ssm = new SSMClient({ region: TEST_REGION, credentials: TEST_CREDENTIALS, endpoint: moto.endpoint });
    await ssm.send(new PutParameterCommand({ Name: harness.resources.secretParameter, Type: 'SecureString', Value: NEW_SECRET, Overwrite: true }));

    // Same container: still the cached pair, so the old secret passes until the TTL runs out.
    expect((await harness.deliver(signedDelivery(freshEvent(), OLD_SECRET))).statusCode).toBe(200);
    // A container started after the change (or this one after its TTL) knows only the new secret.
    harness.coldStart();
    expect((await harness.deliver(signedDelivery(freshEvent(), OLD_SECRET))).statusCode).toBe(400);
    expect((await harness.deliver(signedDelivery(freshEvent(), NEW_SECRET))).statusCode).toBe(200);
  });
});
