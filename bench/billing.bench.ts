// Billing at scale, measured as it runs: the built action (actions/billing/dist/index.js) as its own process, as the
// runner runs it, billing from a cost report file. The real stripe client inside the action talks to the local Stripe
// server through a proxy that holds each request 300 ms (STRIPE_API_BASE); the ledger is the billing table on dynalite
// behind a proxy that counts DynamoDB requests and serves TransactWriteItems, which dynalite lacks, item by item (on
// moto, whose server takes one request at a time, the table paced billing below the Stripe limit and grew moto past
// 14 GiB at 1,000 customers); the Stripe key is read from SSM on moto. CPU and peak RSS are the kernel's figures for
// the whole process (GNU time).
//
// Runs: a test key (20 req/s) on 50 customers without latency; then, for each size in BENCH_CUSTOMERS (default 150;
// e.g. 1000,10000), a live key (80 req/s) behind 300 ms of latency: the baseline build BENCH_BASELINE_DIST (e.g.
// `git show 3e7500c:actions/billing/dist/index.js > .bench-baseline/billing.mjs`, a fixed concurrency of 8) up to
// BENCH_BASELINE_MAX customers (default 1000), then this build, then this build again the same day.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { validateBillingConfig } from '../src/config/load.js';
import { isoDate, periodOf } from '../src/period.js';
import { toCostReport } from '../src/report/costReport.js';
import { costSnapshot } from '../test/support/billing.js';
import { startDynalite } from '../test/support/dynalite.js';
import { startMoto } from '../test/support/moto.js';
import { startStripeServer, type StripeTestServer } from '../test/support/stripeServer.js';
import { createBillingTable, BENCH_CREDENTIALS } from './support/billingTable.js';
import { startDynaliteWithTransactions } from './support/dynaliteTransactions.js';
import { byOperation, measureAction, measureNode, total } from './support/processes.js';

const SIZES = sizes('BENCH_CUSTOMERS', process.env.BENCH_CUSTOMERS ?? '150');
const TEST_CUSTOMERS = 50;
const BASELINE_MAX = Number(process.env.BENCH_BASELINE_MAX ?? 1000);
const LATENCY_MS = 300;
const LIMIT = { live: 80, test: 20 } as const;
const KEYS = { live: 'sk_live_benchlocalserver0000', test: 'sk_test_benchlocalserver0000' } as const;
const builds = [
  ...(process.env.BENCH_BASELINE_DIST ? [{ name: 'baseline', dist: resolve(process.env.BENCH_BASELINE_DIST) }] : []),
  { name: 'this build', dist: resolve(process.env.BENCH_DIST ?? 'actions/billing/dist/index.js') },
];

function sizes(name: string, value: string): number[] {
  return value
    .split(',')
    .filter((size) => size.trim() !== '')
    .map((size) => {
      const count = Number(size);
      if (!Number.isInteger(count) || count < 1 || count > 99_999) {
        throw new Error(`${name}: '${size}' is not a customer count; use whole numbers from 1 to 99999, comma-separated, e.g. 1000,10000`);
      }
      return count;
    });
}

/** An HTTP proxy that holds every request `delayMs` before passing it on, and times the first and last request. */
async function latencyProxy(upstream: string, delayMs: number) {
  const target = new URL(upstream);
  const window = { first: 0, last: 0 };
  const server = createServer((req, res) => {
    window.first ||= performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      setTimeout(() => {
        const forward = httpRequest(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            answer.on('end', () => (window.last = performance.now()));
          },
        );
        forward.on('error', () => res.writeHead(502).end());
        forward.end(Buffer.concat(chunks));
      }, delayMs);
    });
  });
  const address = await new Promise<AddressInfo>((done) => server.listen(0, '127.0.0.1', () => done(server.address() as AddressInfo)));
  return {
    url: `http://127.0.0.1:${address.port}`,
    /** Seconds from the first request's arrival to the last answer's end since the last reset. */
    seconds: () => (window.last - window.first) / 1000,
    reset: () => Object.assign(window, { first: 0, last: 0 }),
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'bench-billing-'));
const now = new Date();
const period = periodOf(now);
const empty = join(dir, 'empty.mjs');
writeFileSync(empty, '');
const bare = await measureNode([empty], {});

const moto = await startMoto(resolve('test/support/moto_server.py'));
const dynalite = await startDynalite();
const dynamo = await startDynaliteWithTransactions(dynalite.endpoint);
const ssm = new SSMClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: BENCH_CREDENTIALS });
const stripe = { live: await startStripeServer({ secretKey: KEYS.live }), test: await startStripeServer({ secretKey: KEYS.test }) };
for (const mode of ['live', 'test'] as const) {
  await ssm.send(new PutParameterCommand({ Name: `/stripe/bench/${mode}`, Type: 'SecureString', Value: KEYS[mode] }));
}
ssm.destroy();
const slow = await latencyProxy(stripe.live.url, LATENCY_MS);
const direct = await latencyProxy(stripe.test.url, 0);

/** A billing config and the cost check's report for `count` customers, every one above its allowance. */
function customerFiles(tag: string, count: number, server: StripeTestServer) {
  const customers = Array.from({ length: count }, (_, index) => {
    const number = String(index + 1).padStart(5, '0');
    server.addCustomer(`cus_${tag}${number}`);
    return {
      id: `${tag}${number}`,
      name: `Customer ${number}`,
      match: `1000000${number}`,
      stripeCustomerId: `cus_${tag}${number}`,
      allowance: 100,
      markupPercent: 10,
    };
  });
  const input = { currency: 'usd', customers, billing: { minimumInvoiceAmount: 1 } };
  const config = validateBillingConfig(input);
  const spends = customers.map((customer, index) => ({ id: customer.id, daily: [String(150 + (index % 97) * 1.37)] }));
  const files = { config: join(dir, `${tag}.config.json`), report: join(dir, `${tag}.cost-report.json`) };
  writeFileSync(files.config, JSON.stringify(input));
  writeFileSync(files.report, JSON.stringify(toCostReport(costSnapshot(config, period.id, isoDate(now), spends), config)));
  return files;
}

interface Run {
  readonly customers: number;
  readonly key: 'live' | 'test';
  readonly build: string;
  readonly run: string;
}

const rows: string[][] = [];
const notes: string[] = [];

async function bill(run: Run, dist: string, files: { config: string; report: string }, table: string) {
  const server = stripe[run.key];
  const proxy = run.key === 'live' ? slow : direct;
  const stripeBefore = server.requests.total;
  dynamo.reset();
  proxy.reset();
  const result = await measureAction(
    dist,
    {
      config: files.config,
      'cost-report': files.report,
      'billing-table': table,
      'stripe-secret-parameter': `/stripe/bench/${run.key}`,
      mode: 'scheduled',
      'dry-run': 'false',
    },
    {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SSM: moto.endpoint,
      STRIPE_API_BASE: proxy.url,
    },
    { timeoutMs: 3_600_000 },
  );
  const label = `${run.build}, ${run.customers} customers, ${run.key} key, ${run.run}`;
  if (result.status !== 0) notes.push(`${label}: exit ${result.status}: ${(result.stdout + result.stderr).slice(-400).replace(/\s+/g, ' ')}`);
  const invoices = (JSON.parse(result.outputs.invoices ?? '[]') as unknown[]).length;
  const requests = server.requests.total - stripeBefore;
  const perSecond = (seconds: number) => (seconds > 0 ? requests / seconds : 0);
  const ofLimit = (seconds: number) => `${perSecond(seconds).toFixed(1)} (${((perSecond(seconds) / LIMIT[run.key]) * 100).toFixed(0)} %)`;
  rows.push([
    run.customers.toLocaleString('en'),
    `${run.key} (${LIMIT[run.key]}/s)${run.key === 'live' ? `, ${LATENCY_MS} ms` : ''}`,
    run.build,
    run.run,
    String(invoices),
    requests.toLocaleString('en'),
    requests > 0 ? `**${ofLimit(proxy.seconds())}**` : '–',
    requests > 0 ? ofLimit(result.wallMs / 1000) : '–',
    `${total(dynamo.requests).toLocaleString('en')} (${byOperation(dynamo.requests)})`,
    `${(result.wallMs / 1000).toFixed(1)} s`,
    `${(result.cpuMs / 1000).toFixed(2)} s`,
    `${result.maxRssMiB.toFixed(0)} MiB`,
  ]);
  console.error(`billing bench: ${label}: ${invoices} invoices, ${requests} Stripe requests, ${(result.wallMs / 1000).toFixed(1)} s`);
}

{
  const files = customerFiles('t', TEST_CUSTOMERS, stripe.test);
  const table = 'bench-billing-test';
  await createBillingTable(dynalite.endpoint, table);
  await bill({ customers: TEST_CUSTOMERS, key: 'test', build: 'this build', run: 'first run' }, builds.at(-1)!.dist, files, table);
}
for (const customers of SIZES) {
  for (const [index, build] of builds.entries()) {
    if (build.name === 'baseline' && customers > BASELINE_MAX) {
      notes.push(`baseline, ${customers} customers: not run (over BENCH_BASELINE_MAX=${BASELINE_MAX}; at about 26 req/s it takes customers x 4 / 26 s)`);
      continue;
    }
    const tag = `b${index}n${customers}x`;
    const files = customerFiles(tag, customers, stripe.live);
    const table = `bench-billing-${tag}`;
    await createBillingTable(dynalite.endpoint, table);
    for (const run of build.name === 'baseline' ? ['first run'] : ['first run', 'same-day re-run']) {
      await bill({ customers, key: 'live', build: build.name, run }, build.dist, files, table);
    }
  }
}

await Promise.all([slow.close(), direct.close(), dynamo.stop(), stripe.live.close(), stripe.test.close()]);
await Promise.all([moto.stop(), dynalite.stop()]);

console.log(`## Billing: the built action as a process, against the local Stripe server and dynalite

Node ${process.version}. Bare \`node\` (an empty module) in the same run: ${(bare.cpuMs / 1000).toFixed(2)} s CPU, ${bare.maxRssMiB.toFixed(0)} MiB.
Stripe requests are counted by the local Stripe server; "req/s while billing" runs from the first Stripe request's
arrival to the last answer, "req/s, whole process" over the process's wall time (start-up, ledger reads, cost report
and outputs included). DynamoDB requests are every request the action made to the billing table (on dynalite), counted at a proxy.

| Customers | Key, Stripe latency | Build | Run | Invoices | Stripe requests | req/s while billing (% of limit) | req/s, whole process | DynamoDB requests | Wall | CPU (whole process) | Peak RSS |
|--:|:--|:--|:--|--:|--:|--:|--:|:--|--:|--:|--:|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}
${notes.map((n) => `\n> ${n}`).join('')}`);
