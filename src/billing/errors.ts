import { ServiceError } from '../errors.js';

/**
 * A Stripe call for one ledger entry that failed after retries. `permanent` (Stripe rejected the request: no such
 * customer, invalid currency) and `nothingCreated` together mean the entry can be released, resumed or not;
 * otherwise it stays pending and the next run resumes it.
 */
export class BillingCallError extends ServiceError {
  override name = 'BillingCallError';
  /**
   * Set when retrying sooner cannot succeed: Stripe replays a stored error for the entry's idempotency key until it
   * forgets the key, this many seconds from now at the latest as far as the adapter can tell.
   */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    message: string,
    hint: string,
    readonly permanent: boolean,
    readonly nothingCreated: boolean,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, hint, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}
