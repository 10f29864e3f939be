import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { stripeSignatureVerifier } from '../../../src/stripe/webhookSignature.js';
import { NotAnEventError, SignatureRejectedError } from '../../../src/webhooks/signature.js';

const NOW_MS = Date.parse('2026-11-20T12:00:00Z');
const NOW = NOW_MS / 1000;
const payload = JSON.stringify({ id: 'evt_sig1', object: 'event', type: 'invoice.paid' });
const bytes = Buffer.from(payload);
const sign = (secret: string, timestamp = NOW, body = payload) => Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });

function failureOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof SignatureRejectedError) return error.failure;
    if (error instanceof NotAnEventError) return 'not_an_event';
    throw error;
  }
  return 'accepted';
}

describe('stripeSignatureVerifier', () => {
  it('returns the parsed event when any configured secret matches', () => {
    expect(stripeSignatureVerifier(bytes, sign('whsec_b'), ['whsec_a', 'whsec_b'], NOW_MS)).toMatchObject({ id: 'evt_sig1' });
  });

  it.each([
    ['missing_header', () => stripeSignatureVerifier(bytes, undefined, ['whsec_a'], NOW_MS)],
    ['malformed_header', () => stripeSignatureVerifier(bytes, 'v1=abc', ['whsec_a'], NOW_MS)],
    ['mismatch', () => stripeSignatureVerifier(bytes, sign('whsec_other'), ['whsec_a'], NOW_MS)],
    ['mismatch', () => stripeSignatureVerifier(Buffer.from(`${payload}\n`), sign('whsec_a'), ['whsec_a'], NOW_MS)],
    ['stale_timestamp', () => stripeSignatureVerifier(bytes, sign('whsec_a', NOW - 301), ['whsec_a'], NOW_MS)],
    ['future_timestamp', () => stripeSignatureVerifier(bytes, sign('whsec_a', NOW + 301), ['whsec_a'], NOW_MS)],
    ['not_an_event', () => stripeSignatureVerifier(Buffer.from('not json'), sign('whsec_a', NOW, 'not json'), ['whsec_a'], NOW_MS)],
  ])('refuses with %s', (failure, run) => {
    expect(failureOf(run)).toBe(failure);
  });

  it('accepts timestamps at the edge of the 300 s tolerance on both sides', () => {
    expect(failureOf(() => stripeSignatureVerifier(bytes, sign('whsec_a', NOW - 300), ['whsec_a'], NOW_MS))).toBe('accepted');
    expect(failureOf(() => stripeSignatureVerifier(bytes, sign('whsec_a', NOW + 300), ['whsec_a'], NOW_MS))).toBe('accepted');
  });

  it('does not put the secret or the expected signature in its error message', () => {
    try {
      stripeSignatureVerifier(bytes, sign('whsec_other'), ['whsec_topsecret'], NOW_MS);
    } catch (error) {
      expect((error as Error).message).not.toContain('whsec_topsecret');
      expect((error as Error).message).toMatch(/1 configured secret/);
      return;
    }
    throw new Error('expected a rejection');
  });
});
