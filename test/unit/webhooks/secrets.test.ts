import { describe, expect, it } from 'vitest';
import { cachedSecrets, parseSecretList, WebhookSecretError } from '../../../src/webhooks/secrets.js';

describe('parseSecretList', () => {
  it('splits on commas and newlines, trims, drops blanks and repeats', () => {
    expect(parseSecretList(' whsec_old ,whsec_new\r\nwhsec_old\n\n')).toEqual(['whsec_old', 'whsec_new']);
  });

  it('refuses a value that holds no secret, saying what to store', () => {
    expect(() => parseSecretList(' ,\n')).toThrow(WebhookSecretError);
    expect(() => parseSecretList('')).toThrow(/store one or more whsec_/);
  });
});

describe('cachedSecrets', () => {
  it('loads once per TTL and again after it', async () => {
    let now = 0;
    let loads = 0;
    const secrets = cachedSecrets(
      async () => `whsec_${++loads}`,
      300_000,
      () => now,
    );

    expect(await secrets()).toEqual(['whsec_1']);
    now = 299_999;
    expect(await secrets()).toEqual(['whsec_1']);
    now = 300_000;
    expect(await secrets()).toEqual(['whsec_2']);
    expect(loads).toBe(2);
  });

  it('shares one load between concurrent callers and retries after a failed load', async () => {
    let loads = 0;
    let fail = true;
    const secrets = cachedSecrets(
      async () => {
        loads++;
        if (fail) throw new Error('SSM throttled');
        return 'whsec_ok';
      },
      1000,
      () => 0,
    );

    const results = await Promise.allSettled([secrets(), secrets(), secrets()]);
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(loads).toBe(1);

    fail = false;
    expect(await secrets()).toEqual(['whsec_ok']);
    expect(loads).toBe(2);
  });
});
