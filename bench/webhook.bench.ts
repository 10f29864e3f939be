// Webhook handler benchmark: bundle size and cold load of the built Lambda bundle, events per second through one
// handler instance against in-process DynamoDB (dynalite), and the handler's own overhead per event without I/O.
// Bounded: a fixed number of events, and every loop also stops after a time budget.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import Stripe from 'stripe';
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
const OVERHEAD_EVENTS = 5000;
const COLD_LOADS = 7;
const BUDGET_MS = 15_000;

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

async function throughput(bundle: string): Promise<{ events: number; seconds: number; statuses: Record<number, number> }> {
  const database = await startDynalite();
  const dynamoEndpoint = database.endpoint;
  const fakes = fakeSsmAndSns();
  const fakeEndpoint = await listen(fakes);
  const dynamo = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamoEndpoint, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const tables = await createWebhookTables(dynamo);
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
  const handler = (createRequire(import.meta.url)(bundle) as { handler: Handler }).handler;
  const events = deliveries(THROUGHPUT_EVENTS);
  const statuses: Record<number, number> = {};
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write; // the handler's log lines
  const started = performance.now();
  let handled = 0;
  try {
    for (const event of events) {
      const { statusCode } = await handler(event);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      handled++;
      if (performance.now() - started > BUDGET_MS) break;
    }
  } finally {
    process.stdout.write = write;
  }
  const seconds = (performance.now() - started) / 1000;
  await database.stop();
  await new Promise((done) => fakes.close(done));
  dynamo.destroy();
  return { events: handled, seconds, statuses };
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
const flow = await throughput(bundle);
const own = await overhead();

const rows: Array<[string, string]> = [
  ['Bundle size (lambda/billing-handler, minified CJS)', `${(bytes / 1024).toFixed(0)} KiB (${(gzipped / 1024).toFixed(0)} KiB gzipped)`],
  ['Cold load: require() of the bundle in a fresh process (median of 7)', `${cold.loadMs.toFixed(1)} ms`],
  ['Cold load: whole fresh process loading the bundle vs an empty one', `${cold.processMs.toFixed(0)} ms vs ${cold.baselineMs.toFixed(0)} ms`],
  [
    'Throughput: one handler instance, sequential, dynalite in-process',
    `${(flow.events / flow.seconds).toFixed(0)} events/s (${flow.events} events in ${flow.seconds.toFixed(1)} s; statuses ${JSON.stringify(flow.statuses)})`,
  ],
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
