import Stripe from 'stripe';
import { NotAnEventError, SIGNATURE_TOLERANCE_SECONDS, SignatureRejectedError, type SignatureVerifier } from '../webhooks/signature.js';

const TIMESTAMP = /(?:^|,)\s*t=(\d+)\s*(?:,|$)/;
const V1_SIGNATURE = /(?:^|,)\s*v1=[0-9a-f]+\s*(?:,|$)/;

/**
 * Verifies with the stripe library (`Stripe.webhooks.constructEvent`, tolerance 300 s), trying every configured
 * secret so that the old and the new secret both pass while a secret is being rolled. The library refuses old
 * timestamps only; one too far in the future is refused here as well.
 */
export const stripeSignatureVerifier: SignatureVerifier = (payload, header, secrets, nowMs) => {
  if (!header) throw new SignatureRejectedError('missing_header', 'no Stripe-Signature header');
  const timestamp = TIMESTAMP.exec(header)?.[1];
  if (!timestamp || !V1_SIGNATURE.test(header)) {
    throw new SignatureRejectedError('malformed_header', 'Stripe-Signature header has no t=<unix time> and v1=<hex> pair');
  }
  if (Number(timestamp) - Math.floor(nowMs / 1000) > SIGNATURE_TOLERANCE_SECONDS) {
    throw new SignatureRejectedError(
      'future_timestamp',
      `Stripe-Signature timestamp ${timestamp} is more than ${SIGNATURE_TOLERANCE_SECONDS} s in the future; check the clock`,
    );
  }
  let stale = false;
  for (const secret of secrets) {
    try {
      return Stripe.webhooks.constructEvent(payload, header, secret, SIGNATURE_TOLERANCE_SECONDS, undefined, nowMs);
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeSignatureVerificationError)) {
        throw new NotAnEventError(`the signed body is not a JSON Stripe event: ${(error as Error).message}`);
      }
      if (/tolerance/i.test(error.message)) stale = true;
    }
  }
  if (stale) {
    throw new SignatureRejectedError('stale_timestamp', `Stripe-Signature timestamp ${timestamp} is more than ${SIGNATURE_TOLERANCE_SECONDS} s old`);
  }
  throw new SignatureRejectedError(
    'mismatch',
    `no v1 signature matches the body with any of the ${secrets.length} configured secret(s); check the secret and that the body reaches the handler unmodified`,
  );
};
