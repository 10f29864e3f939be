import { ServiceError } from '../errors.js';

/**
 * A Stripe call for one ledger entry that failed after retries. `permanent` (Stripe rejected the request: no such
 * customer, invalid currency) and `nothingCreated` together mean the entry can be released; otherwise it stays
 * pending and the next run resumes it.
 */
export class BillingCallError extends ServiceError {
  override name = 'BillingCallError';
  constructor(
    message: string,
    hint: string,
    readonly permanent: boolean,
    readonly nothingCreated: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, hint, options);
  }
}
