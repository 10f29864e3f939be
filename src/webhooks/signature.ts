/** Why a delivery's signature was refused; each maps to a 400 and a `SignatureFailures` metric. */
export type SignatureFailure = 'missing_header' | 'malformed_header' | 'mismatch' | 'stale_timestamp' | 'future_timestamp';

/** Stripe's own tolerance: a signature older (or further ahead) than this is refused as a possible replay. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export class SignatureRejectedError extends Error {
  override name = 'SignatureRejectedError';
  constructor(
    readonly failure: SignatureFailure,
    message: string,
  ) {
    super(message);
  }
}

/** The signature matched but the body is not JSON (or not a snapshot event). */
export class NotAnEventError extends Error {
  override name = 'NotAnEventError';
}

/**
 * Checks `header` against the exact `payload` (the body text, or its bytes when it came base64-encoded) with each
 * secret in turn and returns the parsed body.
 * Throws SignatureRejectedError or NotAnEventError. The Stripe adapter is src/stripe/webhookSignature.ts.
 */
export type SignatureVerifier = (payload: string | Uint8Array, header: string | undefined, secrets: readonly string[], nowMs: number) => unknown;
