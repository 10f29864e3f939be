// Webhook handler benchmark: bundle size and cold load of the built Lambda bundle, events per second through one
// handler instance against in-process DynamoDB (dynalite), and the handler's own overhead per event without I/O.
// BENCH_CUSTOMERS (sizes, comma-separated, e.g. 1000,10000) repeats the throughput run with tables that already hold
// that many customers' invoice and subscription records. Bounded: a fixed number of events, and every loop also stops
// after a time budget.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import Stripe from 'stripe';
import { invoiceByCustomerKey, invoiceKey } from '../src/records/keys.js';
import { INVOICE_STATUS_RANK, type InvoiceRecord, type SubscriptionRecord } from '../src/records/schema.js';
import { isConditionFailure } from '../src/store/claim.js';
import { memoryWebhookStore } from '../src/store/memoryWebhookStore.js';
import { stripeSignatureVerifier } from '../src/stripe/webhookSignature.js';
import { createWebhookService } from '../src/webhooks/service.js';
import { jsonTelemetry } from '../src/webhooks/telemetry.js';
import { startDynalite } from '../test/support/dynalite.js';
import { createWebhookTables } from '../test/support/webhookLambda.js';
import { bundleLambda } from '../scripts/lambdaBundle.mjs';
import { measureSection } from './markdown.js';

const SECRET = 'whsec_benchSecret0123456789';
const THROUGHPUT_EVENTS = 1000;
const WARM_UP_EVENTS = 20;
const CHUNK_EVENTS = 25;
const OVERHEAD_EVENTS = 5000;
const COLD_LOADS = 7;
const BUDGET_MS = 15_000;
/** Customers whose records the tables already hold in the throughput runs: none by default, BENCH_CUSTOMERS adds sizes. */
const HISTORY_SIZES = [0, ...historySizes(process.env.BENCH_CUSTOMERS)];
/** Each seeded customer's history: one paid invoice per month and one active subscription. */
const HISTORY_MONTHS = ['2026-08', '2026-09', '2026-10'];

function historySizes(value: string | undefined): number[] {
  return (value ?? '')
    .split(',')
    .filter((size) => size.trim() !== '')
    .map((size) => {
      const count = Number(size);
      if (!Number.isInteger(count) || count < 1 || count > 99_999) {
        throw new Error(`BENCH_CUSTOMERS: '${size}' is not a customer count; use whole numbers from 1 to 99999, comma-separated, e.g. 1000,10000`);
      }
      return count;
    });
}

interface Delivery {
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}
type Handler = (request: Delivery) => Promise<{ statusCode: number }>;

const fixture = (name: string) => readFileSync(join('test/fixtures/stripe-events', `${name}.json`), 'utf8');
const TEMPLATES = ['invoice.finalized', 'invoice.payment_failed', 'invoice.paid', 'customer.subscription.created', 'customer.subscription.updated.active'].map(
  fixture,
);

/** Distinct, signed deliveries: every event and object id unique, so each one is a first delivery. */
function deliveries(count: number): Delivery[] {
  const timestamp = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, index) => {
    const template = TEMPLATES[index % TEMPLATES.length] ?? '';
    const body = JSON.stringify(JSON.parse(template.replace(/"(evt|in|sub)_(\w+)"/g, `"$1_$2b${index}"`)));
    return {
      headers: { 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret: SECRET, timestamp }) },
      body,
      isBase64Encoded: false,
    };
  });
}

function rate(events: number, ms: number): string {
  return ((events * 1000) / ms).toFixed(0);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** SSM GetParameter and SNS Publish answered in-process, so the throughput run measures DynamoDB work only. */
function fakeSsmAndSns(): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (String(req.headers['x-amz-target'] ?? '').endsWith('GetParameter')) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ Parameter: { Name: '/stripe/webhook-secret', Type: 'SecureString', Value: SECRET, Version: 1 } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-${body.length}</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`,
      );
    });
  });
}

function buildBundle(dir: string): string {
  return bundleLambda('lambda/billing-handler/handler.ts', join(dir, 'handler.cjs'));
}

function coldLoads(bundle: string, dir: string): { loadMs: number; processMs: number; baselineMs: number } {
  const loader = join(dir, 'load-handler.cjs');
  writeFileSync(
    loader,
    `const started = process.hrtime.bigint();\nrequire(${JSON.stringify(bundle)});\nprocess.stdout.write(String(Number(process.hrtime.bigint() - started) / 1e6));\n`,
  );
  const empty = join(dir, 'empty.cjs');
  writeFileSync(empty, '');
  const loads: number[] = [];
  const processes: number[] = [];
  const baselines: number[] = [];
  for (let run = 0; run < COLD_LOADS; run++) {
    let started = performance.now();
    execFileSync(process.execPath, [empty]);
    baselines.push(performance.now() - started);
    started = performance.now();
    loads.push(Number(execFileSync(process.execPath, [loader], { encoding: 'utf8' })));
    processes.push(performance.now() - started);
  }
  return { loadMs: median(loads), processMs: median(processes), baselineMs: median(baselines) };
}

interface RecordedRequest {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * An HTTP proxy in front of dynalite that counts (and, while recording, keeps) every DynamoDB request. The handler
 * and the store-alone replay both go through it, so it costs both sides the same.
 */
async function countingProxy(upstream: string) {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const recorded: RecordedRequest[] = [];
  const byOperation: Record<string, number> = {};
  let recording = false;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (recording) {
        const operation = String(req.headers['x-amz-target'] ?? '').replace('DynamoDB_20120810.', '');
        byOperation[operation] = (byOperation[operation] ?? 0) + 1;
        recorded.push({
          path: req.url ?? '/',
          headers: {
            'content-type': String(req.headers['content-type']),
            'x-amz-target': String(req.headers['x-amz-target']),
            authorization: String(req.headers.authorization),
          },
          body: body.toString('utf8'),
        });
      }
      const forward = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host }, agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.end(body);
    });
  });
  const endpoint = await listen(server);
  return {
    endpoint,
    recorded,
    byOperation,
    record(on: boolean) {
      recording = on;
    },
    async stop() {
      agent.destroy();
      await new Promise((done) => server.close(done));
    },
  };
}

/**
 * The handler's DynamoDB requests sent again through the SDK client, one at a time, to fresh tables: the store's own
 * rate for the same round trips. The wire JSON is the low-level command input.
 */
async function replay(requests: readonly RecordedRequest[], dynamo: DynamoDBClient, from: string, to: string): Promise<number> {
  const commands = requests.map((request) => {
    const input = JSON.parse(request.body.split(from).join(to)) as never;
    const operation = request.headers['x-amz-target']?.replace('DynamoDB_20120810.', '');
    if (operation === 'UpdateItem') return new UpdateItemCommand(input);
    if (operation === 'PutItem') return new PutItemCommand(input);
    if (operation === 'GetItem') return new GetItemCommand(input);
    throw new Error(`no replay for DynamoDB ${operation}`);
  });
  const started = performance.now();
  for (const command of commands) {
    await dynamo.send(command as UpdateItemCommand).catch((error: unknown) => {
      if (!isConditionFailure(error)) throw error;
    });
  }
  return (performance.now() - started) / 1000;
}

/** `customers` customers' invoice and subscription records, written before the measured events (not counted). */
async function seedHistory(dynamo: DynamoDBClient, tables: { billingTable: string; subscriptionsTable: string }, customers: number): Promise<number> {
  const documents = DynamoDBDocumentClient.from(dynamo);
  const at = '2026-11-01T06:00:00.000Z';
  const writes: Array<{ table: string; item: InvoiceRecord | SubscriptionRecord }> = [];
  for (let index = 0; index < customers; index++) {
    const customerId = `history-${index}`;
    const stripeCustomerId = `cus_history${index}`;
    for (const period of HISTORY_MONTHS) {
      const invoiceId = `in_history${index}p${period.replace('-', '')}`;
      const invoice: InvoiceRecord = {
        pk: invoiceKey(invoiceId).pk,
        sk: 'INVOICE',
        recordType: 'invoice',
        invoiceId,
        stripeCustomerId,
        customerId,
        period,
        amountDue: 12_345 + index,
        amountPaid: 12_345 + index,
        currency: 'usd',
        status: 'paid',
        statusRank: INVOICE_STATUS_RANK.paid,
        createdAt: at,
        updatedAt: at,
        lastEventCreated: 1_790_000_000,
        ...invoiceByCustomerKey(customerId, period, invoiceId),
      };
      writes.push({ table: tables.billingTable, item: invoice });
    }
    const subscription: SubscriptionRecord = {
      subscriptionId: `sub_history${index}`,
      recordType: 'subscription',
      stripeCustomerId,
      status: 'active',
      items: [
        {
          itemId: `si_history${index}`,
          priceId: 'price_history',
          productId: 'prod_history',
          quantity: 1,
          currentPeriodStart: 1_792_000_000,
          currentPeriodEnd: 1_794_600_000,
        },
      ],
      currentPeriodStart: 1_792_000_000,
      currentPeriodEnd: 1_794_600_000,
      cancelAtPeriodEnd: false,
      lastEventId: `evt_history${index}`,
      lastEventType: 'customer.subscription.updated',
      lastEventCreated: 1_792_000_000,
      updatedAt: at,
    };
    writes.push({ table: tables.subscriptionsTable, item: subscription });
  }
  for (let start = 0; start < writes.length; start += 25) {
    let pending: Record<string, Array<{ PutRequest: { Item: Record<string, unknown> } }>> = {};
    for (const { table, item } of writes.slice(start, start + 25)) (pending[table] ??= []).push({ PutRequest: { Item: { ...item } } });
    while (Object.keys(pending).length > 0) {
      const answer = await documents.send(new BatchWriteCommand({ RequestItems: pending }));
      pending = (answer.UnprocessedItems ?? {}) as typeof pending;
    }
  }
  return writes.length;
}

interface Throughput {
  historyCustomers: number;
  historyItems: number;
  events: number;
  statuses: Record<number, number>;
  requests: number;
  byOperation: Record<string, number>;
  handler: { wallMs: number; cpuUs: number };
  store: { wallMs: number; cpuUs: number };
}

async function throughput(bundle: string, historyCustomers: number): Promise<Throughput> {
  const database = await startDynalite();
  const proxy = await countingProxy(database.endpoint);
  const dynamoEndpoint = proxy.endpoint;
  const fakes = fakeSsmAndSns();
  const fakeEndpoint = await listen(fakes);
  const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: database.endpoint, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const tables = await createWebhookTables(dynamo);
  // The store's side replays into `fresh` tables: both hold the same history.
  const fresh = await createWebhookTables(dynamo);
  const historyItems = await seedHistory(dynamo, tables, historyCustomers);
  await seedHistory(dynamo, fresh, historyCustomers);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_ENDPOINT_URL_SSM: fakeEndpoint,
    AWS_ENDPOINT_URL_SNS: fakeEndpoint,
    BILLING_TABLE: tables.billingTable,
    SUBSCRIPTIONS_TABLE: tables.subscriptionsTable,
    SNS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:billing',
  });
  const require = createRequire(import.meta.url);
  delete require.cache[bundle]; // a fresh handler for these tables: it keeps its service (and table names) per container
  const handler = (require(bundle) as { handler: Handler }).handler;
  const events = deliveries(THROUGHPUT_EVENTS);
  const statuses: Record<number, number> = {};
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write; // the handler's log lines
  // The store's side: the same requests against fresh tables (same name length) in the same dynalite, through the
  // same proxy. Handler and store alternate in chunks, so both see the same load on a shared machine.
  const viaProxy = new DynamoDBClient({ region: 'us-east-1', endpoint: proxy.endpoint, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const handlerTime = { wallMs: 0, cpuUs: 0 };
  const storeTime = { wallMs: 0, cpuUs: 0 };
  const timed = async (total: { wallMs: number; cpuUs: number }, work: () => Promise<void>) => {
    const wall = performance.now();
    const cpu = process.cpuUsage();
    await work();
    const used = process.cpuUsage(cpu);
    total.cpuUs += used.user + used.system;
    total.wallMs += performance.now() - wall;
  };
  let handled = 0;
  try {
    for (const event of events.slice(0, WARM_UP_EVENTS)) await handler(event);
    await replay(proxy.recorded.splice(0), viaProxy, tables.suffix, (await createWebhookTables(dynamo)).suffix);
    const measured = events.slice(WARM_UP_EVENTS);
    for (let chunk = 0; chunk < measured.length && handlerTime.wallMs + storeTime.wallMs < 2 * BUDGET_MS; chunk += CHUNK_EVENTS) {
      const first = proxy.recorded.length;
      proxy.record(true);
      await timed(handlerTime, async () => {
        for (const event of measured.slice(chunk, chunk + CHUNK_EVENTS)) {
          const { statusCode } = await handler(event);
          statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
          handled++;
        }
      });
      proxy.record(false);
      const requests = proxy.recorded.slice(first);
      await timed(storeTime, () => replay(requests, viaProxy, tables.suffix, fresh.suffix).then(() => undefined));
    }
  } finally {
    process.stdout.write = write;
  }
  viaProxy.destroy();
  await proxy.stop();
  await database.stop();
  await new Promise((done) => fakes.close(done));
  dynamo.destroy();
  return {
    historyCustomers,
    historyItems,
    events: handled,
    statuses,
    requests: proxy.recorded.length,
    byOperation: proxy.byOperation,
    handler: handlerTime,
    store: storeTime,
  };
}

async function overhead(): Promise<{ p50: number; p99: number; events: number; heapMb: number }> {
  const store = memoryWebhookStore();
  const service = createWebhookService({
    ...store,
    publish: async () => ({ messageId: 'm' }),
    secrets: async () => [SECRET],
    verify: stripeSignatureVerifier,
    telemetry: jsonTelemetry(() => undefined),
    clock: Date.now,
    maxBodyBytes: 512 * 1024,
  });
  const events = deliveries(OVERHEAD_EVENTS + 500);
  for (const event of events.slice(0, 500)) await service.handleDelivery(event); // warm-up
  const timings: number[] = [];
  const started = performance.now();
  for (const event of events.slice(500)) {
    const begin = performance.now();
    await service.handleDelivery(event);
    timings.push(performance.now() - begin);
    if (performance.now() - started > BUDGET_MS) break;
  }
  globalThis.gc?.();
  timings.sort((a, b) => a - b);
  return { p50: percentile(timings, 50), p99: percentile(timings, 99), events: timings.length, heapMb: process.memoryUsage().heapUsed / 1024 / 1024 };
}

const dir = mkdtempSync(join(tmpdir(), 'webhook-bench-'));
const bundle = resolve(buildBundle(dir));
const bytes = statSync(bundle).size;
const gzipped = gzipSync(readFileSync(bundle)).length;
const cold = coldLoads(bundle, dir);
const flows: Throughput[] = [];
for (const customers of HISTORY_SIZES) flows.push(await throughput(bundle, customers));
const own = await overhead();

function throughputRows(flow: Throughput): Array<[string, string]> {
  const tables =
    flow.historyCustomers === 0
      ? ''
      : `, tables holding ${flow.historyCustomers.toLocaleString('en-US')} customers' records (${flow.historyItems.toLocaleString('en-US')} invoices and subscriptions)`;
  return [
    [
      `Throughput: one handler instance, sequential, dynalite in-process${tables}`,
      `${rate(flow.events, flow.handler.wallMs)} events/s, ${rate(flow.events, flow.handler.cpuUs / 1000)} events per CPU-second (${flow.events} events; statuses ${JSON.stringify(flow.statuses)})`,
    ],
    [
      `DynamoDB round trips per event (counted at the proxy)${tables}`,
      `${(flow.requests / flow.events).toFixed(2)} (${flow.requests} requests: ${Object.entries(flow.byOperation)
        .map(([operation, count]) => `${count} ${operation}`)
        .join(', ')})`,
    ],
    [
      `The store alone: the same requests through the SDK client, sequential, alternating with the handler${tables}`,
      `${rate(flow.events, flow.store.wallMs)} events/s, ${rate(flow.events, flow.store.cpuUs / 1000)} per CPU-second`,
    ],
    [
      `Handler / store${tables}`,
      `${(flow.store.wallMs / flow.handler.wallMs).toFixed(2)} wall-clock, ${(flow.store.cpuUs / flow.handler.cpuUs).toFixed(2)} CPU (CPU includes dynalite, in the same process)`,
    ],
  ];
}

const rows: Array<[string, string]> = [
  ['Bundle size (lambda/billing-handler, minified CJS)', `${(bytes / 1024).toFixed(0)} KiB (${(gzipped / 1024).toFixed(0)} KiB gzipped)`],
  ['Cold load: require() of the bundle in a fresh process (median of 7)', `${cold.loadMs.toFixed(1)} ms`],
  ['Cold load: whole fresh process loading the bundle vs an empty one', `${cold.processMs.toFixed(0)} ms vs ${cold.baselineMs.toFixed(0)} ms`],
  ...flows.flatMap(throughputRows),
  ['Handler overhead per event without I/O, p50', `${(own.p50 * 1000).toFixed(0)} µs`],
  ['Handler overhead per event without I/O, p99', `${(own.p99 * 1000).toFixed(0)} µs (${own.events} events; heap after GC ${own.heapMb.toFixed(0)} MB)`],
];
console.log(
  measureSection(
    'Webhook handler',
    rows,
    `Node ${process.version}, ${process.arch}. Overhead = signature check (HMAC), JSON parse, schema validation, routing, status rules, log and metric lines, against in-memory stores.`,
  ),
);
