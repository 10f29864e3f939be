import type Stripe from 'stripe';
import { BillingCallError } from '../billing/errors.js';
import type { InvoiceLine } from '../billing/lines.js';
import type { InvoiceRequest, IssuedInvoice, MeterDelivery, MeterEventRequest, StripeBillingPort } from '../billing/types.js';
import { withRetry, type RetryOptions } from '../retry.js';
import { createRateLimiter, type RateLimiter } from './rateLimit.js';

export interface StripeBillingOptions {
  readonly livemode: boolean;
  /** Defaults stay under Stripe's limits (25/s test, 100/s live) with room for anything else using the key. */
  readonly requestsPerSecond?: number;
  readonly attempts?: number;
  readonly sleep?: RetryOptions['sleep'];
  readonly random?: RetryOptions['random'];
  readonly onRetry?: RetryOptions['onRetry'];
}

/**
 * How far back a resumed entry looks for what an earlier run created: 10 pages of 100, newest first. An entry stays
 * pending only from one run to the next, so what it made is among the customer's most recent objects.
 */
const MAX_PAGES = 10;
/**
 * `invoice.sent` events are listed for the whole account, newest first, back to the invoice's finalization: up to
 * 10,000 sends. Beyond that the entry stays pending rather than risk a second email.
 */
const SENT_EVENT_PAGES = 100;

/**
 * The Stripe side of billing: every POST carries an idempotency key derived from the ledger entry
 * ("<customer>/<period>/<entry>/<step>"), and a resumed entry first looks for what an earlier run created, since
 * Stripe forgets idempotency keys after about a day and the ledger may be older than that.
 */
export function stripeBilling(stripe: Stripe, options: StripeBillingOptions): StripeBillingPort {
  const requestsPerSecond = options.requestsPerSecond ?? (options.livemode ? 80 : 20);
  const limiter = createRateLimiter(requestsPerSecond, options.sleep);
  const call = caller(limiter, options);

  async function findInvoice(request: InvoiceRequest): Promise<Stripe.Invoice | undefined> {
    const query = `metadata['ledgerEntry']:'${request.ledgerEntry}'`;
    const found = await call('search for the invoice of a pending ledger entry', true, () => stripe.invoices.search({ query, limit: 10 }));
    const hit = found.data.find((invoice) => invoice.metadata?.ledgerEntry === request.ledgerEntry);
    if (hit) return hit;
    // Search lags writes by up to a minute; the customer's recent invoices are read-after-write consistent.
    const listed = await findInPages(
      "list the customer's invoices",
      (startingAfter) => stripe.invoices.list({ customer: request.stripeCustomerId, limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
      (invoice) => invoice.metadata?.ledgerEntry === request.ledgerEntry,
    );
    return listed.found;
  }

  /**
   * Pages through a list, newest first, until `match` finds an item: every page goes through the rate limiter and
   * the retries (stripe-node's auto-pagination would fetch the further pages outside both). At most `maxPages`;
   * `complete` says whether the whole list was read.
   */
  async function findInPages<T extends { id: string }>(
    what: string,
    page: (startingAfter: string | undefined) => Promise<Stripe.ApiList<T>>,
    match: (item: T) => boolean,
    maxPages = MAX_PAGES,
  ): Promise<{ found: T } | { found: undefined; complete: boolean }> {
    let startingAfter: string | undefined;
    for (let count = 0; count < maxPages; count += 1) {
      const list = await call(what, true, () => page(startingAfter));
      const hit = list.data.find(match);
      if (hit) return { found: hit };
      const last = list.data.at(-1);
      if (!list.has_more || !last) return { found: undefined, complete: true };
      startingAfter = last.id;
    }
    return { found: undefined, complete: false };
  }

  async function hasItem(invoiceId: string, ledgerEntry: string): Promise<boolean> {
    const items = await call("list the invoice's items", false, () => stripe.invoiceItems.list({ invoice: invoiceId, limit: 100 }));
    return items.data.some((item) => item.metadata?.ledgerEntry === ledgerEntry);
  }

  /** The line numbers (metadata `line`) of this entry's items already on the invoice, all pages read. */
  async function linesOn(invoiceId: string, ledgerEntry: string): Promise<Set<string>> {
    const present = new Set<string>();
    let startingAfter: string | undefined;
    for (;;) {
      const page = await call("list the invoice's items", false, () =>
        stripe.invoiceItems.list({ invoice: invoiceId, limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
      );
      for (const item of page.data) if (item.metadata?.ledgerEntry === ledgerEntry && item.metadata.line) present.add(item.metadata.line);
      const last = page.data.at(-1);
      if (!page.has_more || !last) return present;
      startingAfter = last.id;
    }
  }

  /** One item per line, keyed `<entry>/item-<n>`; a resumed draft gets only the lines it lacks. */
  async function addLines(invoiceId: string, request: InvoiceRequest, lines: readonly InvoiceLine[], resumed: boolean): Promise<void> {
    const present = resumed ? await linesOn(invoiceId, request.ledgerEntry) : new Set<string>();
    for (const [index, line] of lines.entries()) {
      const number = String(index + 1);
      if (present.has(number)) continue;
      await call(`add the item "${line.description}" (line ${number} of ${lines.length}) to invoice ${invoiceId}`, false, () =>
        stripe.invoiceItems.create(
          {
            customer: request.stripeCustomerId,
            invoice: invoiceId,
            amount: line.amountMinor,
            currency: request.currency,
            description: line.description,
            metadata: { customerId: request.customerId, period: request.period, ledgerEntry: request.ledgerEntry, line: number },
          },
          { idempotencyKey: `${request.ledgerEntry}/item-${number}` },
        ),
      );
    }
  }

  /**
   * Whether an earlier run already emailed this invoice: Stripe records an `invoice.sent` event for every send (also in
   * test mode) and keeps events for 30 days. Only a resumed entry asks; the send's idempotency key covers a day at most.
   */
  async function wasSent(invoice: Stripe.Invoice): Promise<boolean> {
    const since = invoice.status_transitions?.finalized_at ?? invoice.created;
    const sent = await findInPages(
      'list invoice.sent events',
      (startingAfter) =>
        stripe.events.list({ type: 'invoice.sent', created: { gte: since }, limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
      (event) => (event.data.object as { id?: string }).id === invoice.id,
      SENT_EVENT_PAGES,
    );
    if (sent.found) return true;
    if (sent.complete) return false;
    throw new BillingCallError(
      `Could not tell whether invoice ${invoice.id} was already emailed: more than ${SENT_EVENT_PAGES * 100} invoices were sent since it was finalized`,
      'Nothing was sent twice: the entry stays pending. Check the invoice in the Stripe dashboard and send it from there if it was never sent',
      false,
      false,
    );
  }

  const meterIds = new Map<string, string>();

  async function meterId(eventName: string): Promise<string> {
    const known = meterIds.get(eventName);
    if (known) return known;
    const { found } = await findInPages(
      'list the billing meters',
      (startingAfter) => stripe.billing.meters.list({ status: 'active', limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
      (meter) => meter.event_name === eventName,
    );
    if (!found) {
      throw new BillingCallError(
        `No active Stripe billing meter has the event name ${eventName}`,
        "Check the customer's meterEventName in the billing config against the meters in Stripe; the entry stays pending",
        false,
        false,
      );
    }
    meterIds.set(eventName, found.id);
    return found.id;
  }

  /**
   * Whether Stripe recorded the entry's event: each entry's event has its own fixed timestamp (noon of its day, the
   * period's last second for the true-up), so the customer's summary for that minute holds it or nothing. Only asked
   * past the dedupe window, when summaries (aggregated asynchronously) are long up to date.
   */
  async function meterSummaryHolds(request: MeterEventRequest): Promise<boolean> {
    const id = await meterId(request.eventName);
    const startTime = request.timestamp - (request.timestamp % 60);
    const summaries = await call(`read the meter event summary of ${request.identifier}`, false, () =>
      stripe.billing.meters.listEventSummaries(id, { customer: request.stripeCustomerId, start_time: startTime, end_time: startTime + 60 }),
    );
    return summaries.data.some((summary) => summary.aggregated_value > 0);
  }

  return {
    requestsPerSecond,
    async issueInvoice(request) {
      const key = (step: string) => ({ idempotencyKey: `${request.ledgerEntry}/${step}` });
      const metadata = { customerId: request.customerId, period: request.period, ledgerEntry: request.ledgerEntry };
      let invoice = request.resume ? await findInvoice(request) : undefined;
      const foundEarlier = invoice !== undefined;
      invoice ??= await call(`create an invoice for ${request.stripeCustomerId}`, true, () =>
        stripe.invoices.create(
          {
            customer: request.stripeCustomerId,
            currency: request.currency,
            collection_method: request.collectionMethod,
            ...(request.collectionMethod === 'send_invoice' ? { days_until_due: request.daysUntilDue } : {}),
            auto_advance: false,
            pending_invoice_items_behavior: 'exclude',
            description: request.lineDescription,
            ...(request.customFields ? { custom_fields: request.customFields.map(({ name, value }) => ({ name, value })) } : {}),
            metadata,
          },
          key('invoice'),
        ),
      );
      const invoiceId = invoice.id;
      let sendNow = false;
      if (invoice.status === 'draft') {
        if (request.lines) {
          await addLines(invoiceId, request, request.lines, foundEarlier);
        } else if (!foundEarlier || !(await hasItem(invoiceId, request.ledgerEntry))) {
          await call(`add the item to invoice ${invoiceId}`, false, () =>
            stripe.invoiceItems.create(
              {
                customer: request.stripeCustomerId,
                invoice: invoiceId,
                amount: request.amountMinor,
                currency: request.currency,
                description: request.lineDescription,
                metadata,
              },
              key('item'),
            ),
          );
        }
        invoice = await call(`finalize invoice ${invoiceId}`, false, () =>
          // charge_automatically: auto_advance lets Stripe collect the finalized invoice itself.
          stripe.invoices.finalizeInvoice(invoiceId, { auto_advance: request.collectionMethod === 'charge_automatically' }, key('finalize')),
        );
        sendNow = true;
      }
      if (request.collectionMethod === 'send_invoice' && invoice.status === 'open' && (sendNow || (foundEarlier && !(await wasSent(invoice))))) {
        invoice = await call(`send invoice ${invoiceId}`, false, () => stripe.invoices.sendInvoice(invoiceId, {}, key('send')));
      }
      return issued(invoice);
    },

    async creditBalance(request) {
      const key = { idempotencyKey: `${request.ledgerEntry}/credit` };
      // Released only when Stripe refuses the credit and nothing from an earlier run can be among what was not read.
      let nothingEarlier = true;
      if (request.resume) {
        const search = await findInPages(
          "list the customer's balance transactions",
          (startingAfter) =>
            stripe.customers.listBalanceTransactions(request.stripeCustomerId, { limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }),
          (transaction) => transaction.metadata?.ledgerEntry === request.ledgerEntry,
        );
        if (search.found) return { creditId: search.found.id };
        nothingEarlier = search.complete;
      }
      const credit = await call(`credit the balance of ${request.stripeCustomerId}`, nothingEarlier, () =>
        stripe.customers.createBalanceTransaction(
          request.stripeCustomerId,
          // A negative balance transaction is a credit that Stripe applies to the customer's next invoices.
          { amount: -request.amountMinor, currency: request.currency, description: request.description, metadata: { ledgerEntry: request.ledgerEntry } },
          key,
        ),
      );
      return { creditId: credit.id };
    },

    async sendMeterEvent(request: MeterEventRequest): Promise<MeterDelivery> {
      if (request.pastDedupeWindow && (await meterSummaryHolds(request))) return 'in-summary';
      try {
        await call(`send meter event ${request.identifier}`, true, () =>
          stripe.billing.meterEvents.create(
            {
              event_name: request.eventName,
              payload: { stripe_customer_id: request.stripeCustomerId, value: String(request.value) },
              identifier: request.identifier,
              timestamp: request.timestamp,
            },
            { idempotencyKey: `${request.ledgerEntry}/meter` },
          ),
        );
      } catch (error) {
        // The identifier is derived from the ledger entry: Stripe holding it is proof that an earlier run delivered it.
        if (error instanceof BillingCallError && isDuplicateIdentifier(error.cause, request.identifier)) return 'duplicate';
        throw error;
      }
      return request.pastDedupeWindow ? 'sent-after-summary' : 'sent';
    },

    dashboardUrl: (invoiceId) => `https://dashboard.stripe.com/${options.livemode ? '' : 'test/'}invoices/${invoiceId}`,
  };
}

function issued(invoice: Stripe.Invoice): IssuedInvoice {
  return {
    invoiceId: invoice.id,
    status: invoice.status ?? 'open',
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? undefined,
    amountDue: invoice.amount_due,
    currency: invoice.currency,
  };
}

type Call = <T>(what: string, nothingCreatedIfFails: boolean, request: () => Promise<T>) => Promise<T>;

function caller(limiter: RateLimiter, options: StripeBillingOptions): Call {
  const attempts = options.attempts ?? 6;
  return async (what, nothingCreatedIfFails, request) => {
    try {
      return await withRetry(
        async () => {
          await limiter.acquire();
          return request();
        },
        {
          attempts,
          baseDelayMs: 500,
          maxDelayMs: 8_000,
          isRetryable,
          ...(options.sleep ? { sleep: options.sleep } : {}),
          ...(options.random ? { random: options.random } : {}),
          ...(options.onRetry ? { onRetry: options.onRetry } : {}),
        },
      );
    } catch (error) {
      throw billingCallError(what, error, attempts, nothingCreatedIfFails);
    }
  };
}

interface StripeErrorShape {
  readonly type?: string;
  readonly rawType?: string;
  readonly headers?: Record<string, string | undefined>;
  readonly statusCode?: number;
  readonly code?: string;
  readonly param?: string;
  readonly message?: string;
}

/** https://docs.stripe.com/api/idempotent_requests: keys "are at least 24 hours old" before Stripe may remove them. */
const STORED_RESULT_SECONDS = 24 * 3_600;

/**
 * Stripe says in `Stripe-Should-Retry` whether a retry can succeed; without it 429, 409 (a lock, or the same key in
 * flight), 5xx and lost connections are worth another try, other 4xx are not. A replayed stored result never changes
 * with a retry under the same key. https://docs.stripe.com/error-low-level
 */
function isRetryable(error: unknown): boolean {
  const { type, statusCode, headers } = error as StripeErrorShape;
  if (isStoredError(error)) return false;
  const shouldRetry = headers?.['stripe-should-retry'];
  if (shouldRetry === 'false') return false;
  if (shouldRetry === 'true') return true;
  if (type === 'StripeConnectionError') return true;
  return statusCode === 429 || statusCode === 409 || (statusCode !== undefined && statusCode >= 500);
}

/** A 5xx that Stripe stored under the idempotency key and replays for every request with that key. */
function isStoredError(error: unknown): boolean {
  const { statusCode, headers } = error as StripeErrorShape;
  return statusCode !== undefined && statusCode >= 500 && headers?.['idempotent-replayed'] === 'true';
}

/** Stripe's answer to a meter event whose identifier it already holds (400, `Stripe-Should-Retry: false`). */
function isDuplicateIdentifier(error: unknown, identifier: string): boolean {
  const { statusCode, message } = error as StripeErrorShape;
  return statusCode === 400 && /already exists with identifier/i.test(message ?? '') && (message ?? '').includes(identifier);
}

function billingCallError(what: string, error: unknown, attempts: number, nothingCreatedIfFails: boolean): BillingCallError {
  const { statusCode, code, param, message, headers } = error as StripeErrorShape;
  const reason = message ?? String(error);
  if (isStoredError(error)) {
    return new BillingCallError(
      `Stripe replays a stored error (${statusCode}) to ${what}: it keeps the first result of an idempotency key for at least 24 hours and answers every retry with it`,
      'Nothing is lost: the ledger entry stays pending; a run after Stripe has forgotten the key resumes it with the same keys',
      false,
      false,
      { cause: error, retryAfterSeconds: STORED_RESULT_SECONDS },
    );
  }
  const permanent = statusCode !== undefined && statusCode >= 400 && statusCode < 500 && !isRetryable(error);
  if (!permanent) {
    if (headers?.['stripe-should-retry'] === 'false') {
      return new BillingCallError(
        `Stripe answered ${statusCode ?? 'an error'} to ${what} and said not to retry it now (${reason})`,
        'Nothing is lost: the ledger entry stays pending and the next run resumes it with the same idempotency keys',
        false,
        nothingCreatedIfFails,
        { cause: error },
      );
    }
    if (statusCode === 409 && (error as StripeErrorShape).rawType === 'idempotency_error') {
      return new BillingCallError(
        `Another request with the same idempotency key was still running at Stripe after ${attempts} attempts to ${what}`,
        'Another billing run may be working on the same entry: the ledger entry stays pending and the next run resumes it with the same keys',
        false,
        false,
        { cause: error },
      );
    }
    return new BillingCallError(
      `Stripe did not answer to ${what} after ${attempts} attempts (${reason})`,
      'Nothing is lost: the ledger entry stays pending and the next run resumes it with the same idempotency keys',
      false,
      nothingCreatedIfFails,
      { cause: error },
    );
  }
  return new BillingCallError(`Stripe refused to ${what}: ${reason}`, hintFor(statusCode, code, param), true, nothingCreatedIfFails, { cause: error });
}

function hintFor(statusCode: number | undefined, code: string | undefined, param: string | undefined): string {
  if (statusCode === 401) return 'The Stripe key in the SSM parameter is invalid or revoked: store a current secret key there';
  if (code === 'resource_missing' && param === 'customer') {
    return "Check the customer's stripeCustomerId in the billing config: it must exist in this Stripe account (test keys see only test customers)";
  }
  if (param === 'currency') {
    return "Check the customer's currency in the billing config: Stripe must support it and it must match the customer's existing currency";
  }
  if (code === 'idempotency_error') return 'A ledger entry was replayed with other parameters: inspect the entry in the billing table before re-running';
  return 'Fix the request Stripe named, then re-run: entries that were not billed are planned again';
}
