import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BillingCallError } from '../../src/billing/errors.js';
import type { InvoiceRequest } from '../../src/billing/types.js';
import { realSleep } from '../../src/retry.js';
import { stripeBilling } from '../../src/stripe/billing.js';
import { createStripe } from '../../src/stripe/client.js';
import { parseForm, startStripeServer, type StripeTestServer } from '../support/stripeServer.js';

let server: StripeTestServer;
beforeAll(async () => {
  server = await startStripeServer();
});
afterAll(() => server?.close());
beforeEach(() => {
  server.reset();
  server.addCustomer('cus_acme0001');
});

const noWait = async () => undefined;
const request: InvoiceRequest = {
  ledgerEntry: 'acme/2026-11/overage-2026-11-10',
  customerId: 'acme',
  period: '2026-11',
  stripeCustomerId: 'cus_acme0001',
  currency: 'usd',
  amountMinor: 1234,
  lineDescription: 'AWS usage above the allowance, November 2026',
  collectionMethod: 'send_invoice',
  daysUntilDue: 14,
  resume: false,
};

describe('the local Stripe server, through the real client', () => {
  it('parses nested form bodies as stripe-node encodes them', () => {
    expect(parseForm('customer=cus_1&metadata[ledgerEntry]=a%2Fb&payload[value]=12&expand[0]=lines')).toEqual({
      customer: 'cus_1',
      metadata: { ledgerEntry: 'a/b' },
      payload: { value: '12' },
      expand: { 0: 'lines' },
    });
  });

  it('replays a repeated idempotency key and rejects it with other parameters, as Stripe does', async () => {
    const stripe = server.client();
    const first = await stripe.invoices.create({ customer: 'cus_acme0001', collection_method: 'send_invoice', days_until_due: 3 }, { idempotencyKey: 'k1' });
    const replay = await stripe.invoices.create({ customer: 'cus_acme0001', collection_method: 'send_invoice', days_until_due: 3 }, { idempotencyKey: 'k1' });
    expect(replay.id).toBe(first.id);
    expect(server.state.invoices.size).toBe(1);
    await expect(
      stripe.invoices.create({ customer: 'cus_acme0001', collection_method: 'send_invoice', days_until_due: 4 }, { idempotencyKey: 'k1' }),
    ).rejects.toMatchObject({
      type: 'StripeIdempotencyError',
      statusCode: 400,
    });
  });

  it('finds invoices by metadata once search has caught up (a minute after creation) and issues credit notes up to the invoice total', async () => {
    const stripe = server.client();
    const invoice = await stripe.invoices.create({
      customer: 'cus_acme0001',
      collection_method: 'send_invoice',
      days_until_due: 3,
      metadata: { ledgerEntry: 'x/1' },
    });
    await stripe.invoiceItems.create({ customer: 'cus_acme0001', invoice: invoice.id, amount: 500, currency: 'usd' });
    await stripe.invoices.finalizeInvoice(invoice.id);
    expect((await stripe.invoices.search({ query: "metadata['ledgerEntry']:'x/1'" })).data).toEqual([]);
    server.advance(60);
    const found = await stripe.invoices.search({ query: "metadata['ledgerEntry']:'x/1'" });
    expect(found.data.map((hit) => hit.id)).toEqual([invoice.id]);
    expect((await stripe.invoices.search({ query: "metadata['ledgerEntry']:'x/2'" })).data).toEqual([]);
    const note = await stripe.creditNotes.create({ invoice: invoice.id, amount: 200 });
    expect(note.amount).toBe(200);
    await expect(stripe.creditNotes.create({ invoice: invoice.id, amount: 400 })).rejects.toMatchObject({ statusCode: 400 });
  });

  it('replays a stored 500 for its key, saying not to retry, until the key expires a day later', async () => {
    const stripe = server.client();
    server.setNow(new Date('2026-11-10T07:00:00Z'));
    server.inject({ kind: 500, route: 'POST /v1/invoices', afterProcessing: true });
    const params = { customer: 'cus_acme0001', collection_method: 'send_invoice', days_until_due: 3 } as const;
    await expect(stripe.invoices.create(params, { idempotencyKey: 'k500' })).rejects.toMatchObject({ statusCode: 500 });
    const replay = await stripe.invoices.create(params, { idempotencyKey: 'k500' }).catch((error: unknown) => error);
    expect(replay).toMatchObject({ statusCode: 500, headers: { 'idempotent-replayed': 'true', 'stripe-should-retry': 'false' } });
    expect(server.state.invoices.size).toBe(1);

    server.advance(86_399);
    await expect(stripe.invoices.create(params, { idempotencyKey: 'k500' })).rejects.toMatchObject({ statusCode: 500 });
    server.advance(1);
    const fresh = await stripe.invoices.create(params, { idempotencyKey: 'k500' });
    expect(server.state.invoices.size).toBe(2);
    expect(fresh.id).not.toBe([...server.state.invoices.keys()][0]);
  });

  it('answers 409 to a second request while the first with the same key is in flight, then replays its result', async () => {
    const stripe = server.client();
    server.inject({ kind: 'slow', route: 'POST /v1/invoices', delayMs: 300 });
    const params = { customer: 'cus_acme0001', currency: 'usd' };
    const first = stripe.invoices.create(params, { idempotencyKey: 'kslow' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(stripe.invoices.create(params, { idempotencyKey: 'kslow' })).rejects.toMatchObject({
      statusCode: 409,
      rawType: 'idempotency_error',
      headers: { 'stripe-should-retry': 'true' },
    });
    const created = await first;
    expect((await stripe.invoices.create(params, { idempotencyKey: 'kslow' })).id).toBe(created.id);
    expect(server.state.invoices.size).toBe(1);
  });

  it('refuses a repeated meter event identifier with 400 and Stripe-Should-Retry false within the dedupe window, and counts it again after', async () => {
    const stripe = server.client();
    const event = { event_name: 'aws_usage', payload: { stripe_customer_id: 'cus_acme0001', value: '5' }, identifier: 'acme:2026-11:meter-2026-11-02' };
    await stripe.billing.meterEvents.create(event);
    await expect(stripe.billing.meterEvents.create(event)).rejects.toMatchObject({
      statusCode: 400,
      type: 'StripeInvalidRequestError',
      message: 'An event already exists with identifier acme:2026-11:meter-2026-11-02.',
      headers: { 'stripe-should-retry': 'false' },
    });
    expect(server.state.meterEvents.size).toBe(1);
    server.advance(86_400);
    await stripe.billing.meterEvents.create(event);
    expect(server.state.meterEvents.size).toBe(2);
  });

  it("sums a customer's meter events per minute-aligned window in the meter's event summaries", async () => {
    const stripe = server.client();
    server.setNow(new Date('2026-11-05T00:00:00Z'));
    const meterId = server.addMeter('aws_usage');
    const noon = Date.parse('2026-11-02T12:00:00Z') / 1000;
    await stripe.billing.meterEvents.create({ event_name: 'aws_usage', payload: { stripe_customer_id: 'cus_acme0001', value: '250' }, timestamp: noon });
    await stripe.billing.meterEvents.create({ event_name: 'other', payload: { stripe_customer_id: 'cus_acme0001', value: '7' }, timestamp: noon });
    const meters = await stripe.billing.meters.list({ status: 'active' });
    expect(meters.data.map((meter) => [meter.id, meter.event_name])).toEqual([[meterId, 'aws_usage']]);
    const at = (start: number, end: number) =>
      stripe.billing.meters
        .listEventSummaries(meterId, { customer: 'cus_acme0001', start_time: start, end_time: end })
        .then((list) => list.data.map((s) => s.aggregated_value));
    expect(await at(noon, noon + 60)).toEqual([250]);
    expect(await at(noon + 60, noon + 120)).toEqual([0]);
    await expect(at(noon + 1, noon + 60)).rejects.toMatchObject({ statusCode: 400, param: 'start_time' });
  });

  it('checks POST parameters against the pinned API version and saves no result for a refused request', async () => {
    const stripe = server.client();
    const refused = (promise: Promise<unknown>) => promise.catch((error: unknown) => error);
    expect(await refused(stripe.invoices.create({ customer: 'cus_acme0001', paid: true } as never, { idempotencyKey: 'kp' }))).toMatchObject({
      statusCode: 400,
      message: 'Received unknown parameter: paid',
      param: 'paid',
    });
    // Nothing was saved under the key: the corrected request goes through with it.
    await stripe.invoices.create({ customer: 'cus_acme0001', currency: 'usd' }, { idempotencyKey: 'kp' });
    const [invoice] = [...server.state.invoices.values()];
    expect(await refused(stripe.invoiceItems.create({ customer: 'cus_acme0001', invoice: String(invoice?.id), price: 'price_1' } as never))).toMatchObject({
      param: 'price',
    });
    expect(await refused(stripe.invoices.finalizeInvoice(String(invoice?.id), { auto_advance: 'yes' } as never))).toMatchObject({ param: 'auto_advance' });
    expect(await refused(stripe.invoices.sendInvoice(String(invoice?.id), { days_until_due: 3 } as never))).toMatchObject({ param: 'days_until_due' });
    expect(await refused(stripe.customers.createBalanceTransaction('cus_acme0001', { amount: 100 } as never))).toMatchObject({ param: 'currency' });
    expect(await refused(stripe.billing.meterEvents.create({ payload: { value: '1' } } as never))).toMatchObject({ param: 'event_name' });
    expect(await refused(stripe.invoices.create({ customer: 'cus_acme0001', collection_method: 'manual' } as never))).toMatchObject({
      param: 'collection_method',
    });
  });

  it('refuses a client without the right key', async () => {
    await expect(
      createStripe('sk_test_wrong', { host: '127.0.0.1', port: Number(new URL(server.url).port), protocol: 'http' }).invoices.list(),
    ).rejects.toMatchObject({ statusCode: 401 });
  });
});

describe('stripeBilling', () => {
  it('creates, fills, finalizes and sends an invoice in four keyed requests', async () => {
    const billing = stripeBilling(server.client(), { livemode: false, requestsPerSecond: Infinity, sleep: noWait });
    const issued = await billing.issueInvoice(request);
    expect(issued).toMatchObject({ status: 'open', amountDue: 1234, currency: 'usd' });
    expect(server.requests.entries.map((entry) => [entry.route, entry.idempotencyKey])).toEqual([
      ['POST /v1/invoices', 'acme/2026-11/overage-2026-11-10/invoice'],
      ['POST /v1/invoiceitems', 'acme/2026-11/overage-2026-11-10/item'],
      ['POST /v1/invoices/:id/finalize', 'acme/2026-11/overage-2026-11-10/finalize'],
      ['POST /v1/invoices/:id/send', 'acme/2026-11/overage-2026-11-10/send'],
    ]);
  });

  it('lets Stripe collect charge_automatically invoices: no days_until_due, no send, auto_advance at finalize', async () => {
    const billing = stripeBilling(server.client(), { livemode: true, requestsPerSecond: Infinity, sleep: noWait });
    const issued = await billing.issueInvoice({ ...request, collectionMethod: 'charge_automatically' });
    expect(server.state.invoices.get(issued.invoiceId)).toMatchObject({
      collection_method: 'charge_automatically',
      days_until_due: null,
      auto_advance: true,
      emails_sent: 0,
    });
    expect(server.requests.count('POST /v1/invoices/:id/send')).toBe(0);
    expect(billing.dashboardUrl(issued.invoiceId)).toBe(`https://dashboard.stripe.com/invoices/${issued.invoiceId}`);
  });

  it('reports a rejected request as permanent, naming the customer and what to check', async () => {
    const billing = stripeBilling(server.client(), { livemode: false, requestsPerSecond: Infinity, sleep: noWait });
    const failure = await billing.issueInvoice({ ...request, stripeCustomerId: 'cus_missing1' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BillingCallError);
    expect(failure).toMatchObject({ permanent: true, nothingCreated: true });
    expect((failure as Error).message).toContain('create an invoice for cus_missing1');
    const currency = await billing.issueInvoice({ ...request, currency: 'xyz', ledgerEntry: 'acme/2026-11/other' }).catch((error: unknown) => error);
    expect(currency).toMatchObject({ permanent: true, hint: expect.stringContaining('currency') });
  });

  it('gives up on a Stripe that keeps answering 429 after the configured attempts, as a transient failure', async () => {
    server.inject({ kind: 429, count: 10 });
    const billing = stripeBilling(server.client(), { livemode: false, requestsPerSecond: Infinity, sleep: noWait, attempts: 3 });
    const failure = await billing.issueInvoice(request).catch((error: unknown) => error);
    expect(failure).toMatchObject({ permanent: false, nothingCreated: true });
    expect(server.requests.total).toBe(3);
    expect(server.state.invoices.size).toBe(0);
  });

  it("finds the invoice of a resumed entry beyond the first page of the customer's invoices while search lags", async () => {
    const billing = stripeBilling(server.client(), { livemode: false, requestsPerSecond: Infinity, sleep: noWait });
    const first = await billing.issueInvoice(request);
    const stripe = server.client();
    for (let index = 0; index < 120; index += 1) await stripe.invoices.create({ customer: request.stripeCustomerId, currency: 'usd' });
    server.forgetIdempotencyKeys();
    server.setSearchLagging(true);
    const resumed = await billing.issueInvoice({ ...request, resume: true });
    expect(resumed.invoiceId).toBe(first.invoiceId);
    expect(server.state.invoices.size).toBe(121);
  });

  it("does not email a resumed invoice again when its invoice.sent event is pages behind other invoices' sends", async () => {
    const billing = stripeBilling(server.client(), { livemode: false, requestsPerSecond: Infinity, sleep: noWait });
    const first = await billing.issueInvoice(request);
    await sendOtherInvoices(150);
    server.forgetIdempotencyKeys();

    const resumed = await billing.issueInvoice({ ...request, resume: true });
    expect(resumed.invoiceId).toBe(first.invoiceId);
    expect(server.state.invoices.get(first.invoiceId)).toMatchObject({ emails_sent: 1 });
    expect(server.requests.count('GET /v1/events')).toBe(2);
  });

  it("emails a resumed invoice that was never sent, however many other invoices' sends there are", async () => {
    server.inject({ kind: 500, route: 'POST /v1/invoices/:id/send', count: 6 });
    const billing = stripeBilling(server.client(), { livemode: false, requestsPerSecond: Infinity, sleep: noWait });
    await expect(billing.issueInvoice(request)).rejects.toThrow(/send invoice/);
    await sendOtherInvoices(150);
    server.forgetIdempotencyKeys();

    const resumed = await billing.issueInvoice({ ...request, resume: true });
    expect(server.state.invoices.get(resumed.invoiceId)).toMatchObject({ emails_sent: 1 });
    expect(server.requests.count('GET /v1/events')).toBe(2);
  });

  /** Other invoices of the account, finalized and sent: each adds an invoice.sent event. */
  async function sendOtherInvoices(count: number) {
    const stripe = server.client();
    server.addCustomer('cus_other001');
    for (let index = 0; index < count; index += 1) {
      const other = await stripe.invoices.create({ customer: 'cus_other001', currency: 'usd', collection_method: 'send_invoice', days_until_due: 7 });
      await stripe.invoiceItems.create({ customer: 'cus_other001', invoice: other.id, amount: 100, currency: 'usd' });
      await stripe.invoices.finalizeInvoice(other.id);
      await stripe.invoices.sendInvoice(other.id);
    }
  }

  it('finds the credit of a resumed entry beyond the first page of balance transactions', async () => {
    const billing = stripeBilling(server.client(), { livemode: false, requestsPerSecond: Infinity, sleep: noWait });
    const credit = {
      ledgerEntry: 'acme/2026-11/true-up',
      stripeCustomerId: request.stripeCustomerId,
      currency: 'usd',
      amountMinor: 500,
      description: 'Credit',
      resume: false,
    };
    const first = await billing.creditBalance(credit);
    const stripe = server.client();
    for (let index = 0; index < 120; index += 1) await stripe.customers.createBalanceTransaction(request.stripeCustomerId, { amount: 100, currency: 'usd' });
    server.forgetIdempotencyKeys();
    expect(await billing.creditBalance({ ...credit, resume: true })).toEqual(first);
    expect(server.state.balanceTransactions.size).toBe(121);
  });

  it('honours Stripe-Should-Retry: no retry of a 500 that says false, retries of a 429 that says true', async () => {
    const billing = stripeBilling(server.client(), { livemode: false, requestsPerSecond: Infinity, sleep: noWait });
    server.inject({ kind: 500, route: 'POST /v1/invoices', shouldRetry: false });
    const failure = await billing.issueInvoice(request).catch((error: unknown) => error);
    expect(failure).toMatchObject({ permanent: false, nothingCreated: true });
    expect((failure as Error).message).toContain('said not to retry it now');
    expect(server.requests.count('POST /v1/invoices')).toBe(1);

    server.inject({ kind: 429, route: 'POST /v1/invoices', shouldRetry: true, count: 2 });
    await billing.issueInvoice(request);
    expect(server.requests.count('POST /v1/invoices')).toBe(4);
    expect(server.state.invoices.size).toBe(1);
  });

  it('stops at a stored 500 that Stripe replays for the key, and says when the entry can be retried', async () => {
    server.inject({ kind: 500, route: 'POST /v1/invoices', afterProcessing: true });
    const billing = stripeBilling(server.client(), { livemode: false, requestsPerSecond: Infinity, sleep: noWait });
    const failure = await billing.issueInvoice(request).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BillingCallError);
    expect(failure).toMatchObject({ permanent: false, nothingCreated: false, retryAfterSeconds: 86_400 });
    expect((failure as Error).message).toContain('Stripe replays a stored error (500) to create an invoice');
    // The first 500, then one replay: no further retries under a key whose answer cannot change.
    expect(server.requests.entries.map((entry) => [entry.status, entry.replayed])).toEqual([
      [500, false],
      [500, true],
    ]);
  });

  it('waits out a 409 for a key in flight and takes the replayed result: two runs on one entry make one invoice', async () => {
    server.inject({ kind: 'slow', route: 'POST /v1/invoices', delayMs: 200 });
    const billing = stripeBilling(server.client(), { livemode: false, requestsPerSecond: Infinity, sleep: () => realSleep(100) });
    const [one, two] = await Promise.all([billing.issueInvoice(request), billing.issueInvoice(request)]);
    expect(two.invoiceId).toBe(one.invoiceId);
    expect(server.requests.entries.some((entry) => entry.status === 409)).toBe(true);
    expect(server.state.invoices.size).toBe(1);
    expect(server.state.invoiceItems.size).toBe(1);
    expect(server.state.invoices.get(one.invoiceId)).toMatchObject({ status: 'open', emails_sent: 1 });
  });

  describe('meter events', () => {
    const noon = Date.parse('2026-11-02T12:00:00Z') / 1000;
    const meterEvent = {
      ledgerEntry: 'acme/2026-11/meter-2026-11-02',
      eventName: 'aws_usage',
      stripeCustomerId: 'cus_acme0001',
      value: 250,
      identifier: 'acme:2026-11:meter-2026-11-02',
      timestamp: noon,
      pastDedupeWindow: false,
    };
    const billing = () => stripeBilling(server.client(), { livemode: false, requestsPerSecond: Infinity, sleep: noWait });
    beforeEach(() => {
      server.setNow(new Date('2026-11-03T07:00:00Z'));
      server.addMeter('aws_usage');
    });

    it('completes on a duplicate-identifier answer: Stripe already holds the event', async () => {
      expect(await billing().sendMeterEvent(meterEvent)).toBe('sent');
      server.forgetIdempotencyKeys();
      expect(await billing().sendMeterEvent(meterEvent)).toBe('duplicate');
      expect(server.requests.entries.map((entry) => entry.status)).toEqual([200, 400]);
      expect(server.state.meterEvents.size).toBe(1);
    });

    it('past the dedupe window, completes from the meter event summary without sending again', async () => {
      await billing().sendMeterEvent(meterEvent);
      server.advance(25 * 3_600);
      expect(await billing().sendMeterEvent({ ...meterEvent, pastDedupeWindow: true })).toBe('in-summary');
      expect(server.requests.count('POST /v1/billing/meter_events')).toBe(1);
      expect(server.state.meterEvents.size).toBe(1);
    });

    it('past the dedupe window, sends the event when the summary holds nothing', async () => {
      // Another day's event of the customer is in the summary of its own minute, not of this one.
      await billing().sendMeterEvent({ ...meterEvent, identifier: 'acme:2026-11:meter-2026-11-01', timestamp: noon - 86_400, ledgerEntry: 'x' });
      server.advance(25 * 3_600);
      expect(await billing().sendMeterEvent({ ...meterEvent, pastDedupeWindow: true })).toBe('sent-after-summary');
      expect(server.state.meterEvents.get(meterEvent.identifier)).toMatchObject({ payload: { value: '250' }, timestamp: noon });
    });

    it('leaves the entry pending when no active meter has the event name', async () => {
      const failure = await billing()
        .sendMeterEvent({ ...meterEvent, eventName: 'unknown_event', pastDedupeWindow: true })
        .catch((error: unknown) => error);
      expect(failure).toMatchObject({ permanent: false, nothingCreated: false });
      expect((failure as Error).message).toBe('No active Stripe billing meter has the event name unknown_event');
      expect(server.state.meterEvents.size).toBe(0);
    });
  });

  it('honours STRIPE_API_BASE as the testing hook of createStripe', async () => {
    process.env.STRIPE_API_BASE = server.url;
    try {
      const invoices = await createStripe(server.secretKey).invoices.list();
      expect(invoices.data).toEqual([]);
      expect(server.requests.count('GET /v1/invoices')).toBe(1);
    } finally {
      delete process.env.STRIPE_API_BASE;
    }
  });
});
