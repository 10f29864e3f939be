import { createServer, type Server } from 'node:http';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoEventLedger, dynamoInvoiceStore, dynamoSubscriptionStore } from '../../src/store/webhookStore.js';
import { listEventsSince } from '../../src/stripe/events.js';
import { stripeSignatureVerifier } from '../../src/stripe/webhookSignature.js';
import { HANDLED_EVENT_TYPES } from '../../src/webhooks/events.js';
import type { Notification } from '../../src/webhooks/ports.js';
import { parseSince, replayEvents } from '../../src/webhooks/replay.js';
import { createWebhookService } from '../../src/webhooks/service.js';
import { silentTelemetry } from '../../src/webhooks/telemetry.js';
import { startDynalite, type Dynalite } from '../support/dynalite.js';
import { fixtureEvent, type FixtureEvent, type FixtureName } from '../support/stripeEvents.js';
import { webhookTables } from '../support/webhookTables.js';

const STORED: readonly FixtureName[] = [
  'customer.subscription.deleted',
  'invoice.paid',
  'charge.succeeded',
  'customer.subscription.created',
  'invoice.payment_failed',
  'invoice.finalized',
  'customer.subscription.trial_will_end',
  'invoice.payment_succeeded',
  'customer.subscription.updated.active',
];

/** Stripe's GET /v1/events as far as the replay uses it: newest first, `created[gte]`, `types[]`, cursor pages (3 at most here). */
function fakeStripeEvents(events: readonly FixtureEvent[], requests: string[]): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stripe.test');
    requests.push(url.search);
    const gte = Number(url.searchParams.get('created[gte]') ?? 0);
    const types = url.searchParams.getAll('types[0]').length ? [...url.searchParams.entries()].filter(([k]) => k.startsWith('types[')).map(([, v]) => v) : [];
    const limit = Math.min(3, Number(url.searchParams.get('limit') ?? 10));
    const after = url.searchParams.get('starting_after');
    const matching = [...events].sort((a, b) => b.created - a.created).filter((event) => event.created >= gte && (!types.length || types.includes(event.type)));
    const start = after ? matching.findIndex((event) => event.id === after) + 1 : 0;
    const page = matching.slice(start, start + limit);
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_fake' });
    res.end(JSON.stringify({ object: 'list', url: '/v1/events', has_more: start + limit < matching.length, data: page }));
  });
}

let dynalite: Dynalite;
let server: Server;
let stripe: Stripe;
const requests: string[] = [];

beforeAll(async () => {
  dynalite = await startDynalite();
  server = fakeStripeEvents(STORED.map(fixtureEvent), requests);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  stripe = new Stripe('sk_test_replay', { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 });
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await dynalite?.stop();
});

describe('backfill: replaying listed Stripe events', () => {
  it('applies listed events through the webhook processing and changes nothing when run again', async () => {
    const { documents, tables: resources } = await webhookTables(dynalite.endpoint);
    const published: Notification[] = [];
    const service = createWebhookService({
      ledger: dynamoEventLedger(documents, resources.billingTable),
      invoices: dynamoInvoiceStore(documents, resources.billingTable),
      subscriptions: dynamoSubscriptionStore(documents, resources.subscriptionsTable),
      publish: async (notification) => {
        published.push(notification);
        return { messageId: `m-${published.length}` };
      },
      secrets: async () => ['whsec_unused'],
      verify: stripeSignatureVerifier,
      telemetry: silentTelemetry,
      clock: Date.now,
      maxBodyBytes: 1024,
    });
    const since = fixtureEvent('invoice.finalized').created - 100;

    const first = await replayEvents(listEventsSince(stripe, since, HANDLED_EVENT_TYPES), { process: service.processEvent });
    const notificationsAfterFirst = published.map((n) => n.attributes.type).sort();
    const second = await replayEvents(listEventsSince(stripe, since, HANDLED_EVENT_TYPES), { process: service.processEvent });

    expect(first).toEqual({ listed: 8, processed: 8, duplicate: 0, ignored: 0, unreadable: 0, retry: 0 });
    expect(second).toEqual({ listed: 8, processed: 0, duplicate: 8, ignored: 0, unreadable: 0, retry: 0 });
    expect(notificationsAfterFirst).toEqual([
      'payment-failed',
      'payment-succeeded',
      'subscription-canceled',
      'subscription-created',
      'subscription-trial-ending',
    ]);
    expect(published).toHaveLength(5);
    expect(requests.some((search) => decodeURIComponent(search).includes(`created[gte]=${since}&types[0]=invoice.finalized`))).toBe(true);
    expect(requests.some((search) => search.includes('starting_after=evt_'))).toBe(true);
  });

  it('processes the events oldest first and counts shapes it cannot read without stopping', async () => {
    const seen: string[] = [];
    const broken = { ...fixtureEvent('invoice.overdue'), data: { object: { id: 'in_broken', object: 'invoice' } } };
    async function* listed() {
      yield fixtureEvent('invoice.paid');
      yield broken;
      yield fixtureEvent('invoice.finalized');
    }

    const summary = await replayEvents(listed(), {
      process: async (event) => {
        seen.push(event.envelope.type);
        return { outcome: 'processed', effectApplied: true };
      },
    });

    expect(seen).toEqual(['invoice.finalized', 'invoice.paid']);
    expect(summary).toMatchObject({ listed: 3, processed: 2, unreadable: 1 });
  });

  it('accepts an ISO time, epoch seconds or an age, and refuses more than 30 days back', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    expect(parseSince('2026-11-20T00:00:00Z', now)).toBe(Date.parse('2026-11-20T00:00:00Z') / 1000);
    expect(parseSince('1795000000', now)).toBe(1795000000);
    expect(parseSince('36h', now)).toBe(now / 1000 - 36 * 3600);
    expect(() => parseSince('31d', now)).toThrow(/30 days/);
    expect(() => parseSince('last tuesday', now)).toThrow(/is not a time/);
  });
});
