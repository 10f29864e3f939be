import type Stripe from 'stripe';
import { ServiceError } from '../errors.js';
import type { StripeInvoiceReader, StripeInvoiceView } from '../reconcile/ports.js';
import { withRetry, type RetryOptions } from '../retry.js';
import { createRateLimiter } from './rateLimit.js';

export interface StripeInvoiceReaderOptions {
  readonly livemode: boolean;
  readonly requestsPerSecond?: number;
  readonly attempts?: number;
  readonly sleep?: RetryOptions['sleep'];
  /** Listing stops with an error past this many pages of 100 (two months of invoices). */
  readonly maxPages?: number;
}

const MAX_PAGES = 200;

/**
 * Reads this project's invoices from Stripe for reconciliation: list by creation time, 100 a page, every page
 * through the rate limiter and the retries (stripe-node's auto-pagination would bypass both). Nothing is written.
 */
export function stripeInvoiceReader(stripe: Stripe, options: StripeInvoiceReaderOptions): StripeInvoiceReader {
  const limiter = createRateLimiter(options.requestsPerSecond ?? (options.livemode ? 80 : 20), options.sleep);
  let requests = 0;
  const retried = <T>(request: () => Promise<T>) =>
    withRetry(
      async () => {
        await limiter.acquire();
        requests += 1;
        return request();
      },
      { attempts: options.attempts ?? 6, baseDelayMs: 500, maxDelayMs: 8_000, isRetryable, ...(options.sleep ? { sleep: options.sleep } : {}) },
    );
  const failure = (what: string, error: unknown) =>
    new ServiceError(`Stripe refused or did not answer to ${what}: ${(error as Error).message}`, hintFor(error), { cause: error });

  return {
    get requests() {
      return requests;
    },
    async listOurInvoices({ createdFrom, createdTo }) {
      const ours: StripeInvoiceView[] = [];
      let startingAfter: string | undefined;
      for (let page = 0; page < (options.maxPages ?? MAX_PAGES); page += 1) {
        const list = await retried(() =>
          stripe.invoices.list({ created: { gte: createdFrom, lt: createdTo }, limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
        ).catch((error: unknown) => {
          throw failure('list invoices', error);
        });
        for (const invoice of list.data) {
          const view = toView(invoice);
          if (view.ledgerEntry && view.customerId && view.period && view.created >= createdFrom && view.created < createdTo) ours.push(view);
        }
        const last = list.data.at(-1);
        if (!list.has_more || !last) return ours;
        startingAfter = last.id;
      }
      throw new ServiceError(
        `More than ${(options.maxPages ?? MAX_PAGES) * 100} Stripe invoices were created in the two periods; reconciliation stopped without a verdict`,
        'Nothing was changed. The page limit bounds what a daily run may request; raise maxPages for an account this large',
      );
    },
    async getInvoice(invoiceId) {
      try {
        return toView(await retried(() => stripe.invoices.retrieve(invoiceId)));
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw failure(`read invoice ${invoiceId}`, error);
      }
    },
  };
}

function toView(invoice: Stripe.Invoice): StripeInvoiceView {
  const { customerId, period, ledgerEntry } = invoice.metadata ?? {};
  const transitions = invoice.status_transitions;
  const statusAt = transitions?.voided_at ?? transitions?.paid_at ?? transitions?.marked_uncollectible_at ?? transitions?.finalized_at ?? invoice.created;
  return {
    id: invoice.id ?? '',
    stripeCustomerId: typeof invoice.customer === 'string' ? invoice.customer : (invoice.customer?.id ?? ''),
    status: (invoice.status ?? 'draft') as StripeInvoiceView['status'],
    total: invoice.total,
    amountDue: invoice.amount_due,
    amountPaid: invoice.amount_paid,
    currency: invoice.currency,
    created: invoice.created,
    statusAt,
    ...(customerId ? { customerId } : {}),
    ...(period ? { period } : {}),
    ...(ledgerEntry ? { ledgerEntry } : {}),
    ...(invoice.hosted_invoice_url ? { hostedInvoiceUrl: invoice.hosted_invoice_url } : {}),
    ...(invoice.number ? { number: invoice.number } : {}),
  };
}

interface StripeErrorShape {
  readonly type?: string;
  readonly statusCode?: number;
  readonly code?: string;
}

/** A deleted invoice answers as an id that never existed: resource_missing (HTTP 404). */
function isMissing(error: unknown): boolean {
  const { statusCode, code } = error as StripeErrorShape;
  return statusCode === 404 || code === 'resource_missing';
}

function isRetryable(error: unknown): boolean {
  const { type, statusCode } = error as StripeErrorShape;
  if (type === 'StripeConnectionError') return true;
  return statusCode === 429 || statusCode === 409 || (statusCode !== undefined && statusCode >= 500);
}

function hintFor(error: unknown): string {
  const { statusCode } = error as StripeErrorShape;
  if (statusCode === 401) return 'The Stripe key in the SSM parameter is invalid or revoked: store a current secret key there';
  if (statusCode === 403) return 'A restricted key needs read access to Invoices';
  return 'Nothing was changed; the next run reconciles again';
}
