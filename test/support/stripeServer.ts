import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Stripe from 'stripe';
import { createStripe } from '../../src/stripe/client.js';

/**
 * A local, stateful stand-in for the parts of the Stripe API that billing uses, driven by the real `stripe` client
 * through its host/port/protocol options: customers, invoices, invoice items, finalize, send, invoice search by
 * metadata, credit notes, customer balance transactions, billing meter events, and the `invoice.sent` event that
 * sending an invoice records (listed by type and creation time). `emails_sent` on an invoice, not a Stripe field,
 * counts the emails that live mode would have sent.
 *
 * Like Stripe, it replays the stored response for a repeated Idempotency-Key and rejects the same key with other
 * parameters (400 idempotency_error). Faults can be injected (429, 500, a dropped connection before or after the
 * request is processed); every request is counted.
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
  /** The server's clock (meter event timestamps are checked against it); the real clock when never set. */
  setNow(date: Date): void;
  /** Stripe prunes idempotency keys after about a day; this is that day passing. */
  forgetIdempotencyKeys(): void;
  /** Invoice search lags writes by up to a minute: while lagging, it finds nothing. */
  setSearchLagging(lagging: boolean): void;
  reset(): void;
  close(): Promise<void>;
}

export interface Fault {
  readonly kind: 429 | 500 | 'drop';
  /** "POST /v1/invoices", "POST /v1/invoices/:id/finalize"...; any request when absent. */
  readonly route?: string;
  readonly count?: number;
  /** Matching requests let through before the fault strikes (a crash in the middle of a series of calls). */
  readonly after?: number;
  /** For 'drop' and 500: process the request (state changes, key stored) and then fail the response. */
  readonly afterProcessing?: boolean;
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
  meterEvents: Map<string, Json>;
  events: Map<string, Json>;
}

const SECRET_KEY = 'sk_test_localserver0000';
/** Stripe refuses the 251st invoice item of an invoice. */
const MAX_INVOICE_ITEMS = 250;
const CURRENCIES = new Set(['usd', 'eur', 'gbp', 'jpy', 'chf', 'cad', 'aud', 'sek', 'nok', 'dkk']);

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
  ) {
    super(String(body.message));
  }
}

const invalid = (message: string, extra: Json = {}) => new ApiError(400, { type: 'invalid_request_error', message, ...extra });
const missing = (kind: string, id: string, param: string) => invalid(`No such ${kind}: '${id}'`, { code: 'resource_missing', param });

export async function startStripeServer(): Promise<StripeTestServer> {
  const state: ServerState = emptyState();
  let idempotency = new Map<string, { fingerprint: string; status: number; body: Json }>();
  let searchLagging = false;
  const faults: Array<Fault & { remaining: number; passed: number }> = [];
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
    const route = `${method} ${url.pathname.replace(/\/(in|ii|cus|cbtxn|cn)_[A-Za-z0-9]+/g, '/$1_:id').replace(/\/[a-z]+_:id/g, '/:id')}`;
    const key = header(req, 'idempotency-key');
    requests.total += 1;
    requests.byRoute.set(route, (requests.byRoute.get(route) ?? 0) + 1);
    const log = (status: number, replayed = false) => requests.entries.push({ method, route, status, idempotencyKey: key, replayed });

    if (header(req, 'authorization') !== `Bearer ${SECRET_KEY}`) {
      log(401);
      return send(res, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    }
    const fault = takeFault(route);
    if (fault && !fault.afterProcessing) {
      if (fault.kind === 'drop') {
        log(0);
        return res.socket?.destroy();
      }
      log(fault.kind);
      return send(res, fault.kind, {
        error: { type: fault.kind === 429 ? 'rate_limit_error' : 'api_error', message: fault.kind === 429 ? 'Too many requests' : 'An unknown error occurred' },
      });
    }

    const params = parseForm(method === 'GET' ? url.search.slice(1) : rawBody);
    const fingerprint = `${method} ${url.pathname} ${method === 'GET' ? '' : rawBody}`;
    if (method === 'POST' && key) {
      const stored = idempotency.get(key);
      if (stored && stored.fingerprint !== fingerprint) {
        log(400);
        return send(res, 400, {
          error: {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          },
        });
      }
      if (stored) {
        log(stored.status, true);
        return send(res, stored.status, stored.body, { 'idempotent-replayed': 'true' });
      }
    }

    let status = 200;
    let body: Json;
    try {
      body = dispatch(method, url.pathname, params);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      status = error.status;
      body = { error: error.body };
    }
    if (method === 'POST' && key) idempotency.set(key, { fingerprint, status, body });
    if (fault?.kind === 'drop') {
      log(0);
      return res.socket?.destroy();
    }
    if (fault) {
      // Stripe replays the first result for the key, even a 500.
      if (method === 'POST' && key) {
        idempotency.set(key, { fingerprint, status: fault.kind, body: { error: { type: 'api_error', message: 'An unknown error occurred' } } });
      }
      log(fault.kind);
      return send(res, fault.kind, { error: { type: 'api_error', message: 'An unknown error occurred' } });
    }
    log(status);
    send(res, status, body);
  }

  function takeFault(route: string) {
    const index = faults.findIndex((fault) => !fault.route || fault.route === route);
    if (index < 0) return undefined;
    const fault = faults[index]!;
    if (fault.passed < (fault.after ?? 0)) {
      fault.passed += 1;
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
    for (const removed of ['subscription', 'paid']) if (removed in params) throw invalid(`Received unknown parameter: ${removed}`, { param: removed });
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
    for (const removed of ['price', 'unit_amount']) if (removed in params) throw invalid(`Received unknown parameter: ${removed}`, { param: removed });
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
    // Stripe deduplicates by identifier: the event is counted once however often it is sent.
    const existing = state.meterEvents.get(identifier);
    if (existing) return existing;
    const event = { object: 'billing.meter_event', event_name: params.event_name, identifier, payload, timestamp, created: nowSeconds(), livemode: false };
    state.meterEvents.set(identifier, event);
    return event;
  }

  function searchInvoices(query: string): Json {
    if (searchLagging) return { object: 'search_result', data: [], has_more: false, next_page: null, url: '/v1/invoices/search' };
    const clauses = query.split(/\s+AND\s+/i).map((clause) => {
      const match = /^(metadata\['([^']+)'\]|customer|status):'([^']*)'$/.exec(clause.trim());
      if (!match) throw invalid(`Invalid search query: ${query}`, { param: 'query' });
      return { field: match[2] ? `metadata.${match[2]}` : match[1], value: match[3] };
    });
    const data = [...state.invoices.values()].filter((invoice) =>
      clauses.every(({ field, value }) => (field?.startsWith('metadata.') ? (invoice.metadata as Json)[field.slice(9)] : invoice[field ?? '']) === value),
    );
    return { object: 'search_result', data, has_more: false, next_page: null, url: '/v1/invoices/search' };
  }

  const address = await new Promise<AddressInfo>((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo)));
  const url = `http://127.0.0.1:${address.port}`;

  return {
    url,
    secretKey: SECRET_KEY,
    state,
    requests,
    client: () => createStripe(SECRET_KEY, { host: '127.0.0.1', port: address.port, protocol: 'http' }),
    addCustomer: (id, currency) => void createCustomer(id, currency ? { currency } : {}),
    inject: (fault) => void faults.push({ ...fault, remaining: fault.count ?? 1, passed: 0 }),
    setNow: (date) => {
      clock = () => date.getTime();
    },
    forgetIdempotencyKeys: () => {
      idempotency = new Map();
    },
    setSearchLagging: (lagging) => {
      searchLagging = lagging;
    },
    reset() {
      Object.assign(state, emptyState());
      searchLagging = false;
      idempotency = new Map();
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

function emptyState(): ServerState {
  return {
    customers: new Map(),
    invoices: new Map(),
    invoiceItems: new Map(),
    balanceTransactions: new Map(),
    creditNotes: new Map(),
    meterEvents: new Map(),
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
