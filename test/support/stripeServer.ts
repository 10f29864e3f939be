import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { createStripe } from '../../src/stripe/client.js';

/**
 * A local, stateful stand-in for the parts of the Stripe API that billing uses, driven by the real `stripe` client
 * through its host/port/protocol options: customers, invoices, invoice items, finalize, send, invoice search by
 * metadata, credit notes, customer balance transactions, billing meters with their event summaries, billing meter
 * events, and the `invoice.sent` event that sending an invoice records (listed by type and creation time).
 * `emails_sent` on an invoice, not a Stripe field, counts the emails that live mode would have sent.
 *
 * It behaves as Stripe documents wherever billing depends on it (each rule cites its page where it is implemented):
 * idempotency keys replay the first result, a stored 500 included, expire after a day on the server's clock, refuse
 * other parameters (400 idempotency_error) and a second request while the first is in flight (409); a meter event
 * identifier seen within the dedupe window is a 400 with `Stripe-Should-Retry: false`; invoice search lags creation;
 * the POST parameters billing sends are checked against the pinned API version's parameter tree. Faults can be
 * injected (429, 500, a dropped connection before or after the request is processed, a slow request); every request
 * is counted.
 */
export interface StripeTestServer {
  readonly url: string;
  readonly secretKey: string;
  client(): Stripe;
  addCustomer(id: string, currency?: string): void;
  readonly state: ServerState;
  readonly requests: RequestLog;
  /** Queues faults; each matching request consumes one. */
  inject(fault: Fault): void;
  /** Drops the faults not consumed yet. */
  clearFaults(): void;
  /** The server's clock (meter event timestamps are checked against it); the real clock when never set. */
  setNow(date: Date): void;
  /** Moves the server's clock on (from the real time when it was never set): keys and meter identifiers expire by it. */
  advance(seconds: number): void;
  /** Stripe prunes idempotency keys after about a day; this is that day passing. */
  forgetIdempotencyKeys(): void;
  /** The meter event dedupe window passing: identifiers sent before are accepted again (and counted again). */
  forgetMeterIdentifiers(): void;
  /** A billing meter for `eventName` (sum of `payload[value]`, customer from `payload[stripe_customer_id]`); its id. */
  addMeter(eventName: string): string;
  /**
   * Invoice search always lags creation (`searchLagSeconds` on the server's clock); while this is set it finds
   * nothing at all.
   */
  setSearchLagging(lagging: boolean): void;
  reset(): void;
  close(): Promise<void>;
}

export interface StripeServerOptions {
  /** How long a key's first result is kept; Stripe: "at least 24 hours". */
  readonly idempotencyKeySeconds?: number;
  /** How long a meter event identifier is deduplicated; Stripe: "a rolling period of at least 24 hours". */
  readonly meterIdentifierSeconds?: number;
  /** How long a new invoice stays out of search results; Stripe: searchable "in under 1 minute" in normal operation. */
  readonly searchLagSeconds?: number;
  /** The one secret key the server accepts; a live-mode key (sk_live_...) makes billing pace itself at the live limit. */
  readonly secretKey?: string;
}

export interface Fault {
  /** 'slow': the request is held `delayMs` before it is processed, its idempotency key in flight meanwhile. */
  readonly kind: 429 | 500 | 'drop' | 'slow';
  /** "POST /v1/invoices", "POST /v1/invoices/:id/finalize"...; any request when absent. */
  readonly route?: string;
  readonly count?: number;
  /** For 'drop' and 500: process the request (state changes, key stored) and then fail the response. */
  readonly afterProcessing?: boolean;
  readonly delayMs?: number;
  /** Let this many matching requests through first (a crash after the n-th call: skip n, then drop every request). */
  readonly skip?: number;
  /** For 429 and 500: the `Stripe-Should-Retry` header of the answer. */
  readonly shouldRetry?: boolean;
}

export interface RequestLog {
  total: number;
  readonly byRoute: Map<string, number>;
  readonly entries: Array<{ method: string; route: string; status: number; idempotencyKey: string | undefined; replayed: boolean }>;
  count(route: string): number;
}

type Json = Record<string, unknown>;

interface ServerState {
  customers: Map<string, Json>;
  invoices: Map<string, Json>;
  invoiceItems: Map<string, Json>;
  balanceTransactions: Map<string, Json>;
  creditNotes: Map<string, Json>;
  /** By identifier; an identifier accepted again after the dedupe window adds `<identifier>#<n>`. */
  meterEvents: Map<string, Json>;
  meters: Map<string, Json>;
  events: Map<string, Json>;
}

const SECRET_KEY = 'sk_test_localserver0000';
/** Stripe refuses the 251st invoice item of an invoice. */
const MAX_INVOICE_ITEMS = 250;
const CURRENCIES = new Set(['usd', 'eur', 'gbp', 'jpy', 'chf', 'cad', 'aud', 'sek', 'nok', 'dkk']);

interface StoredResult {
  readonly fingerprint: string;
  readonly status: number;
  readonly body: Json;
  readonly headers: Record<string, string>;
  readonly storedAt: number;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message));
  }
}

const invalid = (message: string, extra: Json = {}) => new ApiError(400, { type: 'invalid_request_error', message, ...extra });
const missing = (kind: string, id: string, param: string) => invalid(`No such ${kind}: '${id}'`, { code: 'resource_missing', param });

const DAY_SECONDS = 86_400;

export async function startStripeServer(options: StripeServerOptions = {}): Promise<StripeTestServer> {
  const keySeconds = options.idempotencyKeySeconds ?? DAY_SECONDS;
  const identifierSeconds = options.meterIdentifierSeconds ?? DAY_SECONDS;
  const searchLagSeconds = options.searchLagSeconds ?? 60;
  const secretKey = options.secretKey ?? SECRET_KEY;
  const state: ServerState = emptyState();
  let idempotency = new Map<string, StoredResult>();
  const inFlight = new Set<string>();
  let meterIdentifiers = new Map<string, number>();
  let searchLagging = false;
  const faults: Array<Fault & { remaining: number; skipping: number }> = [];
  let sequence = 0;
  const requests: RequestLog = {
    total: 0,
    byRoute: new Map(),
    entries: [],
    count: (route) => requests.byRoute.get(route) ?? 0,
  };
  const newId = (prefix: string) => `${prefix}_T${String(++sequence).padStart(8, '0')}`;
  let clock: (() => number) | undefined;
  const nowSeconds = () => Math.floor((clock ?? Date.now)() / 1000);

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  function handle(req: IncomingMessage, res: ServerResponse, rawBody: string) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const route = `${method} ${url.pathname.replace(/\/(in|ii|cus|cbtxn|cn|mtr)_[A-Za-z0-9]+/g, '/$1_:id').replace(/\/[a-z]+_:id/g, '/:id')}`;
    const key = method === 'POST' ? header(req, 'idempotency-key') : undefined;
    requests.total += 1;
    requests.byRoute.set(route, (requests.byRoute.get(route) ?? 0) + 1);
    const log = (status: number, replayed = false) => requests.entries.push({ method, route, status, idempotencyKey: key, replayed });
    const fail = (status: number, error: Json, headers: Record<string, string> = {}) => {
      log(status);
      send(res, status, { error }, headers);
    };

    if (header(req, 'authorization') !== `Bearer ${secretKey}`) return fail(401, { type: 'invalid_request_error', message: 'Invalid API Key provided' });
    const fault = takeFault(route);
    if (fault && !fault.afterProcessing && fault.kind !== 'slow') {
      if (fault.kind === 'drop') {
        log(0);
        return res.socket?.destroy();
      }
      return fail(
        fault.kind,
        {
          type: fault.kind === 429 ? 'rate_limit_error' : 'api_error',
          message: fault.kind === 429 ? 'Too many requests' : 'An unknown error occurred',
        },
        fault.shouldRetry === undefined ? {} : { 'stripe-should-retry': String(fault.shouldRetry) },
      );
    }

    const params = parseForm(method === 'GET' ? url.search.slice(1) : rawBody);
    // https://docs.stripe.com/api/idempotent_requests: keys are up to 255 characters; a request that fails parameter
    // validation, or conflicts with a request in flight with the same key, is answered without saving a result.
    if (key !== undefined && key.length > 255) {
      return fail(400, { type: 'invalid_request_error', message: 'Idempotency keys can be at most 255 characters long.', param: 'Idempotency-Key' });
    }
    if (key !== undefined && inFlight.has(key)) {
      // https://docs.stripe.com/error-low-level (Idempotency and retries): a request that conflicts with one still
      // executing with the same key is a 409 and saves nothing; retrying later with the key returns the first result.
      return fail(
        409,
        {
          type: 'idempotency_error',
          message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
        },
        { 'stripe-should-retry': 'true' },
      );
    }
    const fingerprint = `${method} ${url.pathname} ${method === 'GET' ? '' : rawBody}`;
    if (key !== undefined) {
      const stored = storedResult(key);
      if (stored && stored.fingerprint !== fingerprint) {
        // https://docs.stripe.com/api/idempotent_requests: the same key with other parameters is refused.
        return fail(400, {
          type: 'idempotency_error',
          message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        });
      }
      if (stored) {
        // The first result is replayed, "including 500 errors"; a replayed 5xx tells the client not to retry.
        log(stored.status, true);
        return send(res, stored.status, stored.body, {
          'idempotent-replayed': 'true',
          ...(stored.status >= 500 ? { 'stripe-should-retry': 'false' } : {}),
          ...stored.headers,
        });
      }
    }
    const refused = method === 'POST' ? checkParameters(route, params) : undefined;
    if (refused) return fail(400, refused);

    if (key !== undefined) inFlight.add(key);
    const process = () => {
      if (key !== undefined) inFlight.delete(key);
      let status = 200;
      let body: Json;
      let headers: Record<string, string> = {};
      try {
        body = dispatch(method, url.pathname, params);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        status = error.status;
        body = { error: error.body };
        headers = error.headers;
      }
      if (key !== undefined) idempotency.set(key, { fingerprint, status, body, headers, storedAt: nowSeconds() });
      if (fault?.kind === 'drop') {
        log(0);
        return res.socket?.destroy();
      }
      if (fault?.kind === 429 || fault?.kind === 500) {
        // Stripe replays the first result for the key, even a 500.
        const failure = { error: { type: 'api_error', message: 'An unknown error occurred' } };
        if (key !== undefined) idempotency.set(key, { fingerprint, status: fault.kind, body: failure, headers: {}, storedAt: nowSeconds() });
        log(fault.kind);
        return send(res, fault.kind, failure);
      }
      log(status);
      send(res, status, body, headers);
    };
    if (fault?.kind === 'slow') setTimeout(process, fault.delayMs ?? 100);
    else process();
  }

  /** https://docs.stripe.com/api/idempotent_requests: "You can remove keys from the system automatically after they're at least 24 hours old". */
  function storedResult(key: string): StoredResult | undefined {
    const stored = idempotency.get(key);
    if (stored && stored.storedAt + keySeconds <= nowSeconds()) {
      idempotency.delete(key);
      return undefined;
    }
    return stored;
  }

  function takeFault(route: string) {
    const index = faults.findIndex((fault) => !fault.route || fault.route === route);
    if (index < 0) return undefined;
    const fault = faults[index]!;
    if (fault.skipping > 0) {
      fault.skipping -= 1;
      return undefined;
    }
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(index, 1);
    return fault;
  }

  function dispatch(method: string, path: string, params: Json): Json {
    const parts = path.split('/').filter(Boolean).slice(1);
    const [resource, id, action] = parts;
    if (resource === 'customers') {
      if (method === 'POST' && !id) return createCustomer(String(params.id ?? newId('cus')), params);
      const customer = state.customers.get(String(id));
      if (!customer) throw missing('customer', String(id), 'id');
      if (action === 'balance_transactions') {
        return method === 'POST' ? createBalanceTransaction(customer, params) : listOf(filterBy(state.balanceTransactions, { customer: id }), params);
      }
      if (method === 'GET') return customer;
    }
    if (resource === 'invoices') {
      if (method === 'POST' && !id) return createInvoice(params);
      if (method === 'GET' && id === 'search') return searchInvoices(String(params.query ?? ''));
      if (method === 'GET' && !id) return listOf(filterBy(state.invoices, params.customer ? { customer: params.customer } : {}), params);
      const invoice = state.invoices.get(String(id));
      if (!invoice) throw missing('invoice', String(id), 'id');
      if (method === 'GET' && !action) return invoice;
      if (method === 'POST' && action === 'finalize') return finalizeInvoice(invoice, params);
      if (method === 'POST' && action === 'send') return sendInvoice(invoice);
    }
    if (resource === 'invoiceitems') {
      if (method === 'POST' && !id) return createInvoiceItem(params);
      if (method === 'GET' && !id) return listOf(filterBy(state.invoiceItems, params.invoice ? { invoice: params.invoice } : {}), params);
    }
    if (resource === 'credit_notes') {
      if (method === 'POST' && !id) return createCreditNote(params);
      if (method === 'GET' && !id) return listOf(filterBy(state.creditNotes, params.invoice ? { invoice: params.invoice } : {}), params);
    }
    if (resource === 'billing' && id === 'meter_events' && method === 'POST') return createMeterEvent(params);
    if (resource === 'billing' && id === 'meters' && method === 'GET') {
      const [, , meterId, sub] = parts;
      if (!meterId) return listOf(filterBy(state.meters, params.status ? { status: params.status } : {}), params);
      const meter = state.meters.get(meterId);
      if (!meter) throw missing('billing.meter', meterId, 'id');
      if (sub === 'event_summaries') return listOf(meterEventSummaries(meter, params), params);
      if (!sub) return meter;
    }
    if (resource === 'events' && method === 'GET' && !id) return listOf(filterEvents(params), params);
    throw new ApiError(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` });
  }

  function createCustomer(id: string, params: Json): Json {
    const customer = {
      id,
      object: 'customer',
      balance: 0,
      currency: params.currency ?? null,
      metadata: params.metadata ?? {},
      livemode: false,
      created: nowSeconds(),
    };
    state.customers.set(id, customer);
    return customer;
  }

  function requireCustomer(params: Json): Json {
    const id = String(params.customer ?? '');
    const customer = state.customers.get(id);
    if (!customer) throw missing('customer', id, 'customer');
    return customer;
  }

  function requireCurrency(value: unknown): string {
    const currency = String(value ?? '');
    if (!CURRENCIES.has(currency)) {
      throw invalid(`Invalid currency: ${currency}. Stripe currently supports these currencies: ${[...CURRENCIES].join(', ')}`, { param: 'currency' });
    }
    return currency;
  }

  function createInvoice(params: Json): Json {
    const customer = requireCustomer(params);
    const collection = String(params.collection_method ?? 'charge_automatically');
    if (collection === 'charge_automatically' && params.days_until_due !== undefined) {
      throw invalid('You can only set `days_until_due` when `collection_method` is `send_invoice`.', { param: 'days_until_due' });
    }
    if (collection === 'send_invoice' && params.days_until_due === undefined && params.due_date === undefined) {
      throw invalid('Invoices with `collection_method` `send_invoice` need `days_until_due` or `due_date`.', { param: 'days_until_due' });
    }
    const id = newId('in');
    const invoice: Json = {
      id,
      object: 'invoice',
      customer: customer.id,
      currency: requireCurrency(params.currency ?? customer.currency ?? 'usd'),
      collection_method: collection,
      days_until_due: params.days_until_due === undefined ? null : Number(params.days_until_due),
      auto_advance: params.auto_advance === 'true',
      pending_invoice_items_behavior: params.pending_invoice_items_behavior ?? null,
      description: params.description ?? null,
      custom_fields: customFields(params.custom_fields),
      metadata: params.metadata ?? {},
      status: 'draft',
      amount_due: 0,
      amount_paid: 0,
      amount_remaining: 0,
      subtotal: 0,
      total: 0,
      number: null,
      hosted_invoice_url: null,
      livemode: false,
      created: nowSeconds(),
      status_transitions: { finalized_at: null },
      lines: { object: 'list', data: [], has_more: false, url: `/v1/invoices/${id}/lines` },
      emails_sent: 0,
    };
    state.invoices.set(id, invoice);
    return invoice;
  }

  /** Stripe takes up to 4 custom fields, each name up to 40 characters and each value up to 140. */
  function customFields(value: unknown): Json[] | null {
    if (value === undefined || value === '') return null;
    const fields = Object.values(value as Record<string, Json>);
    if (fields.length > 4) throw invalid('custom_fields: at most 4 custom fields are allowed.', { param: 'custom_fields' });
    for (const field of fields) {
      if (String(field.name ?? '').length > 40 || String(field.value ?? '').length > 140) {
        throw invalid('custom_fields: a name is at most 40 characters and a value at most 140.', { param: 'custom_fields' });
      }
    }
    return fields.map((field) => ({ name: String(field.name), value: String(field.value) }));
  }

  function createInvoiceItem(params: Json): Json {
    const customer = requireCustomer(params);
    const invoice = state.invoices.get(String(params.invoice ?? ''));
    if (!invoice) throw missing('invoice', String(params.invoice), 'invoice');
    if (invoice.status !== 'draft') throw invalid(`Invoice ${String(invoice.id)} is no longer a draft; items cannot be added.`, { param: 'invoice' });
    if (invoice.customer !== customer.id) throw invalid('The invoice belongs to another customer.', { param: 'invoice' });
    if ((invoice.lines as { data: Json[] }).data.length >= MAX_INVOICE_ITEMS) {
      throw invalid(`An invoice can have at most ${MAX_INVOICE_ITEMS} invoice items.`, { param: 'invoice' });
    }
    const amount = Number(params.amount);
    if (!Number.isInteger(amount)) throw invalid('Invalid integer: amount', { param: 'amount' });
    const currency = requireCurrency(params.currency);
    if (currency !== invoice.currency) {
      throw invalid(`The currency ${currency} does not match the invoice's ${String(invoice.currency)}.`, { param: 'currency' });
    }
    const item = {
      id: newId('ii'),
      object: 'invoiceitem',
      customer: customer.id,
      invoice: invoice.id,
      amount,
      currency,
      description: params.description ?? null,
      metadata: params.metadata ?? {},
      livemode: false,
    };
    state.invoiceItems.set(String(item.id), item);
    const total = Number(invoice.total) + amount;
    Object.assign(invoice, { total, subtotal: total, amount_due: total, amount_remaining: total });
    (invoice.lines as { data: Json[] }).data.push({
      id: `il_${String(item.id)}`,
      object: 'line_item',
      amount,
      currency,
      description: item.description,
      metadata: item.metadata,
    });
    return item;
  }

  function finalizeInvoice(invoice: Json, params: Json): Json {
    if (invoice.status !== 'draft') throw invalid(`This invoice is already finalized, you can't re-finalize a non-draft invoice.`, { param: 'invoice' });
    const paid = Number(invoice.amount_due) === 0;
    Object.assign(invoice, {
      status: paid ? 'paid' : 'open',
      number: `LOCAL-${String(invoice.id).slice(-6)}`,
      hosted_invoice_url: `https://invoice.stripe.com/i/acct_local/test_${String(invoice.id)}`,
      status_transitions: { finalized_at: nowSeconds() },
      ...(params.auto_advance !== undefined ? { auto_advance: params.auto_advance === 'true' } : {}),
    });
    return invoice;
  }

  function sendInvoice(invoice: Json): Json {
    if (invoice.collection_method !== 'send_invoice') throw invalid('You can only manually send an invoice if its collection method is `send_invoice`.');
    if (invoice.status !== 'open') throw invalid(`You can only send an open invoice; this one is ${String(invoice.status)}.`);
    invoice.emails_sent = Number(invoice.emails_sent) + 1;
    recordEvent('invoice.sent', invoice);
    return invoice;
  }

  function recordEvent(type: string, object: Json): void {
    const id = newId('evt');
    state.events.set(id, { id, object: 'event', type, created: nowSeconds(), livemode: false, data: { object: structuredClone(object) } });
  }

  /** `type`, `types[]` and `created[gte]`, the filters billing and the replay script use. */
  function filterEvents(params: Json): Json[] {
    const types = params.types ? Object.values(params.types as Json).map(String) : params.type ? [String(params.type)] : undefined;
    const since = Number((params.created as Json | undefined)?.gte ?? 0);
    return [...state.events.values()].filter((event) => (!types || types.includes(String(event.type))) && Number(event.created) >= since);
  }

  function createBalanceTransaction(customer: Json, params: Json): Json {
    const amount = Number(params.amount);
    if (!Number.isInteger(amount) || amount === 0) throw invalid('Invalid integer: amount', { param: 'amount' });
    const currency = requireCurrency(params.currency);
    const balance = Number(customer.balance) + amount;
    customer.balance = balance;
    const transaction = {
      id: newId('cbtxn'),
      object: 'customer_balance_transaction',
      customer: customer.id,
      amount,
      currency,
      description: params.description ?? null,
      metadata: params.metadata ?? {},
      ending_balance: balance,
      type: 'adjustment',
      created: nowSeconds(),
      livemode: false,
    };
    state.balanceTransactions.set(String(transaction.id), transaction);
    return transaction;
  }

  function createCreditNote(params: Json): Json {
    const invoice = state.invoices.get(String(params.invoice ?? ''));
    if (!invoice) throw missing('invoice', String(params.invoice), 'invoice');
    if (invoice.status !== 'open' && invoice.status !== 'paid') throw invalid('Credit notes can only be issued for finalized invoices.', { param: 'invoice' });
    const amount = Number(params.amount);
    const credited = [...state.creditNotes.values()].filter((note) => note.invoice === invoice.id).reduce((total, note) => total + Number(note.amount), 0);
    if (!Number.isInteger(amount) || amount <= 0 || amount + credited > Number(invoice.total)) {
      throw invalid('The credit note amount must be positive and at most what is left to credit on the invoice.', { param: 'amount' });
    }
    const note = {
      id: newId('cn'),
      object: 'credit_note',
      invoice: invoice.id,
      customer: invoice.customer,
      amount,
      currency: invoice.currency,
      memo: params.memo ?? null,
      metadata: params.metadata ?? {},
      status: 'issued',
      livemode: false,
    };
    state.creditNotes.set(String(note.id), note);
    if (invoice.status === 'open') invoice.amount_remaining = Math.max(0, Number(invoice.amount_remaining) - amount);
    return note;
  }

  function createMeterEvent(params: Json): Json {
    const payload = (params.payload ?? {}) as Json;
    const customerId = String(payload.stripe_customer_id ?? '');
    if (!state.customers.has(customerId)) throw missing('customer', customerId, 'payload[stripe_customer_id]');
    if (!params.event_name) throw invalid('Missing required param: event_name.', { param: 'event_name' });
    if (!/^-?\d+(\.\d+)?$/.test(String(payload.value ?? ''))) throw invalid('payload[value] must be a number.', { param: 'payload[value]' });
    const timestamp = Number(params.timestamp ?? nowSeconds());
    if (timestamp < nowSeconds() - 35 * 86_400 || timestamp > nowSeconds() + 300) {
      throw invalid('Timestamp must be within the past 35 calendar days or up to 5 minutes in the future.', { param: 'timestamp' });
    }
    const identifier = String(params.identifier ?? newId('mtrevt'));
    // https://docs.stripe.com/api/billing/meter-event/create: "Stripe enforces uniqueness within a rolling period of at
    // least 24 hours". A repeat is refused (400, not to be retried; the answer's form as reported in
    // langfuse/langfuse pull request 16292); after the window it is a new event and counts again.
    const seen = meterIdentifiers.get(identifier);
    if (seen !== undefined && seen + identifierSeconds > nowSeconds()) {
      throw new ApiError(
        400,
        { type: 'invalid_request_error', message: `An event already exists with identifier ${identifier}.` },
        { 'stripe-should-retry': 'false' },
      );
    }
    meterIdentifiers.set(identifier, nowSeconds());
    const event = { object: 'billing.meter_event', event_name: params.event_name, identifier, payload, timestamp, created: nowSeconds(), livemode: false };
    state.meterEvents.set(state.meterEvents.has(identifier) ? `${identifier}#${newId('dup')}` : identifier, event);
    return event;
  }

  /**
   * https://docs.stripe.com/api/billing/meter-event-summary/list: `customer`, `start_time` and `end_time` (aligned with
   * minute boundaries, end exclusive) are required; one summary for the range, or one per `value_grouping_window`.
   * Meters here sum `payload[value]` of the events named `event_name` for the customer in `payload[stripe_customer_id]`.
   */
  function meterEventSummaries(meter: Json, params: Json): Json[] {
    const customer = String(params.customer ?? '');
    if (!customer) throw invalid('Missing required param: customer.', { param: 'customer' });
    const [start, end] = [Number(params.start_time), Number(params.end_time)];
    for (const [name, value] of [
      ['start_time', start],
      ['end_time', end],
    ] as const) {
      if (!Number.isInteger(value) || value % 60 !== 0) throw invalid(`${name} must be aligned with minute boundaries.`, { param: name });
    }
    if (end <= start) throw invalid('end_time must be after start_time.', { param: 'end_time' });
    const window = params.value_grouping_window === 'day' ? DAY_SECONDS : params.value_grouping_window === 'hour' ? 3_600 : end - start;
    const events = [...state.meterEvents.values()].filter(
      (event) => event.event_name === meter.event_name && (event.payload as Json).stripe_customer_id === customer,
    );
    const summaries: Json[] = [];
    for (let from = start; from < end; from += window) {
      const to = Math.min(end, from + window);
      const value = events
        .filter((event) => Number(event.timestamp) >= from && Number(event.timestamp) < to)
        .reduce((total, event) => total + Number((event.payload as Json).value), 0);
      summaries.push({
        id: newId('mtrusg'),
        object: 'billing.meter_event_summary',
        aggregated_value: value,
        start_time: from,
        end_time: to,
        meter: meter.id,
        livemode: false,
      });
    }
    return summaries;
  }

  /**
   * Top-level POST parameters against the pinned API version's parameter tree (PARAMETER_TREE, checked by the
   * compiler against the stripe package's types). https://docs.stripe.com/api/errors: an unknown parameter is an
   * invalid_request_error naming it; such a request fails validation, so no idempotent result is saved.
   */
  function checkParameters(route: string, params: Json): Json | undefined {
    const tree = PARAMETER_TREE[route];
    if (!tree) return undefined;
    const unknown = Object.keys(params).find((name) => !tree.allowed.has(name));
    if (unknown) return { type: 'invalid_request_error', message: `Received unknown parameter: ${unknown}`, param: unknown };
    const absent = tree.required.find((name) => params[name] === undefined);
    if (absent) return { type: 'invalid_request_error', message: `Missing required param: ${absent}.`, param: absent };
    for (const [name, form] of Object.entries(tree.forms)) {
      const problem = params[name] === undefined ? undefined : formProblem(name, form, params[name]);
      if (problem) return { type: 'invalid_request_error', message: problem, param: name };
    }
    return undefined;
  }

  /**
   * https://docs.stripe.com/search (Data freshness): search is not for read-after-write flows, data is searchable in
   * under a minute, and the list APIs are read-after-write: an invoice is found only `searchLagSeconds` after creation.
   */
  function searchInvoices(query: string): Json {
    if (searchLagging) return { object: 'search_result', data: [], has_more: false, next_page: null, url: '/v1/invoices/search' };
    const clauses = query.split(/\s+AND\s+/i).map((clause) => {
      const match = /^(metadata\['([^']+)'\]|customer|status):'([^']*)'$/.exec(clause.trim());
      if (!match) throw invalid(`Invalid search query: ${query}`, { param: 'query' });
      return { field: match[2] ? `metadata.${match[2]}` : match[1], value: match[3] };
    });
    const data = [...state.invoices.values()].filter(
      (invoice) =>
        Number(invoice.created) + searchLagSeconds <= nowSeconds() &&
        clauses.every(({ field, value }) => (field?.startsWith('metadata.') ? (invoice.metadata as Json)[field.slice(9)] : invoice[field ?? '']) === value),
    );
    return { object: 'search_result', data, has_more: false, next_page: null, url: '/v1/invoices/search' };
  }

  const address = await new Promise<AddressInfo>((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo)));
  const url = `http://127.0.0.1:${address.port}`;

  return {
    url,
    secretKey,
    state,
    requests,
    client: () => createStripe(secretKey, { host: '127.0.0.1', port: address.port, protocol: 'http' }),
    addCustomer: (id, currency) => void createCustomer(id, currency ? { currency } : {}),
    inject: (fault) => void faults.push({ ...fault, remaining: fault.count ?? 1, skipping: fault.skip ?? 0 }),
    clearFaults: () => {
      faults.length = 0;
    },
    setNow: (date) => {
      clock = () => date.getTime();
    },
    advance: (seconds) => {
      const at = (nowSeconds() + seconds) * 1000;
      clock = () => at;
    },
    forgetIdempotencyKeys: () => {
      idempotency = new Map();
    },
    forgetMeterIdentifiers: () => {
      meterIdentifiers = new Map();
    },
    addMeter: (eventName) => {
      const id = newId('mtr');
      state.meters.set(id, {
        id,
        object: 'billing.meter',
        event_name: eventName,
        status: 'active',
        default_aggregation: { formula: 'sum' },
        customer_mapping: { event_payload_key: 'stripe_customer_id', type: 'by_id' },
        value_settings: { event_payload_key: 'value' },
        livemode: false,
        created: nowSeconds(),
      });
      return id;
    },
    setSearchLagging: (lagging) => {
      searchLagging = lagging;
    },
    reset() {
      Object.assign(state, emptyState());
      searchLagging = false;
      idempotency = new Map();
      inFlight.clear();
      meterIdentifiers = new Map();
      faults.length = 0;
      clock = undefined;
      requests.total = 0;
      requests.byRoute.clear();
      requests.entries.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type ParameterForm = 'integer' | 'boolean' | 'hash' | readonly string[];

interface ParameterTree {
  readonly allowed: ReadonlySet<string>;
  readonly required: readonly string[];
  readonly forms: Readonly<Record<string, ParameterForm>>;
}

/**
 * The parameters of `Params` (a create/finalize/send params type of the stripe package, which carries the parameter
 * tree of the API version it pins), listed by hand: the compiler refuses a name the type lacks and, through `missing`,
 * a name of the type left out. So a stripe upgrade that changes an endpoint's parameters breaks the typecheck here.
 */
function parameterTree<Params>() {
  return <const Names extends ReadonlyArray<keyof Params & string>>(
    names: Names & ([Exclude<keyof Params, Names[number]>] extends [never] ? unknown : { missing: Exclude<keyof Params, Names[number]> }),
    required: ReadonlyArray<Names[number]>,
    forms: Partial<Record<Names[number], ParameterForm>> = {},
  ): ParameterTree => ({ allowed: new Set<string>(names), required, forms: forms as Record<string, ParameterForm> });
}

/** Per route, the POST parameters of the pinned API version (stripe/esm/resources/*.d.ts); other routes are not checked. */
const PARAMETER_TREE: Readonly<Record<string, ParameterTree>> = {
  'POST /v1/invoices': parameterTree<Stripe.InvoiceCreateParams>()(
    [
      'account_tax_ids',
      'application_fee_amount',
      'auto_advance',
      'automatic_tax',
      'automatically_finalizes_at',
      'collection_method',
      'currency',
      'custom_fields',
      'customer',
      'customer_account',
      'days_until_due',
      'default_payment_method',
      'default_source',
      'default_tax_rates',
      'description',
      'discounts',
      'due_date',
      'effective_at',
      'expand',
      'footer',
      'from_invoice',
      'issuer',
      'metadata',
      'number',
      'on_behalf_of',
      'payment_settings',
      'pending_invoice_items_behavior',
      'rendering',
      'shipping_cost',
      'shipping_details',
      'statement_descriptor',
      'subscription',
      'transfer_data',
    ],
    [],
    {
      auto_advance: 'boolean',
      collection_method: ['charge_automatically', 'send_invoice'],
      days_until_due: 'integer',
      metadata: 'hash',
      pending_invoice_items_behavior: ['exclude', 'include'],
    },
  ),
  'POST /v1/invoiceitems': parameterTree<Stripe.InvoiceItemCreateParams>()(
    [
      'amount',
      'currency',
      'customer',
      'customer_account',
      'description',
      'discountable',
      'discounts',
      'expand',
      'invoice',
      'metadata',
      'period',
      'price_data',
      'pricing',
      'quantity',
      'quantity_decimal',
      'subscription',
      'tax_behavior',
      'tax_code',
      'tax_rates',
      'unit_amount_decimal',
    ],
    [],
    { amount: 'integer', quantity: 'integer', metadata: 'hash', discountable: 'boolean' },
  ),
  'POST /v1/invoices/:id/finalize': parameterTree<Stripe.InvoiceFinalizeInvoiceParams>()(['auto_advance', 'expand'], [], { auto_advance: 'boolean' }),
  'POST /v1/invoices/:id/send': parameterTree<Stripe.InvoiceSendInvoiceParams>()(['expand'], []),
  'POST /v1/customers/:id/balance_transactions': parameterTree<Stripe.CustomerCreateBalanceTransactionParams>()(
    ['amount', 'currency', 'description', 'expand', 'metadata'],
    ['amount', 'currency'],
    { amount: 'integer', metadata: 'hash' },
  ),
  'POST /v1/billing/meter_events': parameterTree<Stripe.Billing.MeterEventCreateParams>()(
    ['event_name', 'payload', 'expand', 'identifier', 'timestamp'],
    ['event_name', 'payload'],
    { payload: 'hash', timestamp: 'integer' },
  ),
};

function formProblem(name: string, form: ParameterForm, value: unknown): string | undefined {
  if (form === 'integer') return /^-?\d+$/.test(String(value)) ? undefined : `Invalid integer: ${String(value)}`;
  if (form === 'boolean') return value === 'true' || value === 'false' ? undefined : `Invalid boolean: ${String(value)}`;
  if (form === 'hash') return typeof value === 'object' ? undefined : `Invalid object: ${name}`;
  return form.includes(String(value)) ? undefined : `Invalid ${name}: must be one of ${form.join(', ')}`;
}

function emptyState(): ServerState {
  return {
    customers: new Map(),
    invoices: new Map(),
    invoiceItems: new Map(),
    balanceTransactions: new Map(),
    creditNotes: new Map(),
    meterEvents: new Map(),
    meters: new Map(),
    events: new Map(),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_local_${Date.now()}`, ...headers });
  res.end(text);
}

function filterBy(items: Map<string, Json>, where: Json): Json[] {
  return [...items.values()].filter((item) => Object.entries(where).every(([field, value]) => item[field] === value));
}

/** Newest first, as Stripe lists, a page of `limit` (at most 100) after `starting_after`. */
function listOf(items: Json[], params: Json): Json {
  const limit = Math.min(100, Number(params.limit ?? 10));
  const ordered = [...items].reverse();
  const after = params.starting_after ? ordered.findIndex((item) => item.id === params.starting_after) : -1;
  if (params.starting_after && after < 0) throw missing('object', String(params.starting_after), 'starting_after');
  const start = after + 1;
  const page = ordered.slice(start, start + limit);
  return { object: 'list', data: page, has_more: ordered.length > start + limit, url: '' };
}

/** Form bodies as stripe-node sends them: `metadata[key]=v`, `expand[0]=x`, nested to any depth. */
export function parseForm(text: string): Json {
  const root: Json = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const path = name.replace(/\]/g, '').split('[');
    let node: Json = root;
    path.forEach((segment, index) => {
      if (index === path.length - 1) node[segment] = value;
      else node = (node[segment] ??= {}) as Json;
    });
  }
  return root;
}
