// Bills 1,000 customers against the local Stripe test server, then runs the same day again, then bills a sample at
// the default test-mode rate limit, then live-mode samples behind 300 ms of Stripe latency. BENCH_CUSTOMERS (sizes,
// comma-separated, e.g. 1000,10000) adds a live-mode run at the rate limit for each size. Prints a markdown section. The ledger is kept in memory and counts the DynamoDB
// requests the real adapter would make: the figures are billing and Stripe, not a DynamoDB emulator's speed.
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runBilling } from '../src/billing/run.js';
import { validateBillingConfig, type BillingConfig } from '../src/config/load.js';
import { parsePeriod } from '../src/period.js';
import { stripeBilling } from '../src/stripe/billing.js';
import { createStripe } from '../src/stripe/client.js';
import { costSnapshot } from '../test/support/billing.js';
import { startStripeServer } from '../test/support/stripeServer.js';
import { measureSection } from './markdown.js';
import { countingMemoryLedger } from './memoryLedger.js';

const CUSTOMERS = 1_000;
const SAMPLE = 50;
/** Live-mode billing behind 300 ms of Stripe latency: customers per run, and the latency. */
const LATENCY_CUSTOMERS = 150;
const LATENCY_MS = 300;
const LIVE_RATE = 80;
/** Live-mode runs at the rate limit for these customer counts (opt-in: each takes customers x 4 / 80 seconds). */
const SCALE_CUSTOMERS = scaleSizes(process.env.BENCH_CUSTOMERS);
const TODAY = '2026-11-20';

const stripe = await startStripeServer();

function customers(count: number, prefix: string) {
  return Array.from({ length: count }, (_, index) => {
    const number = String(index + 1).padStart(5, '0');
    return {
      id: `${prefix}${number}`,
      name: `Customer ${number}`,
      match: `${prefix === 'c' ? 1 : 2}000000${number}`,
      stripeCustomerId: `cus_${prefix}${number}`,
      allowance: 100,
      markupPercent: 10,
    };
  });
}

function scaleSizes(value: string | undefined): number[] {
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

type Ledger = ReturnType<typeof countingMemoryLedger>;

/** An HTTP proxy in front of the local Stripe server that holds every request for `delayMs` before passing it on. */
async function latencyProxy(upstream: string, delayMs: number) {
  const target = new URL(upstream);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      setTimeout(() => {
        const forward = httpRequest(
          { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        forward.end(Buffer.concat(chunks));
      }, delayMs);
    });
  });
  const address = await new Promise<AddressInfo>((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo)));
  return { port: address.port, close: () => new Promise((done) => server.close(done)) };
}

async function bill(
  config: BillingConfig,
  { ledger, requests: ledgerRequests }: Ledger,
  requestsPerSecond: number,
  options: { livemode?: boolean; port?: number; concurrency?: number } = {},
) {
  const now = new Date(`${TODAY}T07:00:00Z`);
  const period = parsePeriod('current', now);
  const snapshot = costSnapshot(
    config,
    period.id,
    TODAY,
    config.customers.map((customer, index) => ({ id: customer.id, daily: [String(150 + (index % 97) * 1.37)] })),
  );
  const before = stripe.requests.total;
  const ledgerBefore = ledgerRequests();
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const outcome = await runBilling(
    {
      loadCosts: async () => snapshot,
      ledger,
      stripe: stripeBilling(options.port ? createStripe(stripe.secretKey, { host: '127.0.0.1', port: options.port, protocol: 'http' }) : stripe.client(), {
        livemode: options.livemode ?? false,
        requestsPerSecond,
      }),
    },
    config,
    { mode: 'scheduled', period, now, dryRun: false, ...(options.concurrency ? { concurrency: options.concurrency } : {}) },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  if (outcome.failures.length > 0) throw new Error(`bench run failed for ${outcome.failures.length} customers: ${outcome.failures[0]?.message}`);
  return {
    outcome,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    requests: stripe.requests.total - before,
    dynamoRequests: ledgerRequests() - ledgerBefore,
  };
}

function prepare(list: ReturnType<typeof customers>): BillingConfig {
  for (const customer of list) stripe.addCustomer(customer.stripeCustomerId);
  return validateBillingConfig({ currency: 'usd', customers: list, billing: { minimumInvoiceAmount: 1 } });
}

const fullConfig = prepare(customers(CUSTOMERS, 'c'));
const fullLedger = countingMemoryLedger();
const first = await bill(fullConfig, fullLedger, Infinity);
const again = await bill(fullConfig, fullLedger, Infinity);
const limited = await bill(prepare(customers(SAMPLE, 's')), countingMemoryLedger(), 20);
// Live mode (80 req/s) behind 300 ms of latency: the former fixed concurrency of 8, then the default, in one run.
const slow = await latencyProxy(stripe.url, LATENCY_MS);
const live = { livemode: true, port: slow.port };
const fixedEight = await bill(prepare(customers(LATENCY_CUSTOMERS, 'f')), countingMemoryLedger(), LIVE_RATE, { ...live, concurrency: 8 });
const followsRate = await bill(prepare(customers(LATENCY_CUSTOMERS, 'r')), countingMemoryLedger(), LIVE_RATE, live);
const atScale = [];
for (const size of SCALE_CUSTOMERS) {
  atScale.push({ size, run: await bill(prepare(customers(size, `l${size}x`)), countingMemoryLedger(), LIVE_RATE, live) });
}
await slow.close();
const rate = (run: { requests: number; seconds: number }) => run.requests / run.seconds;
const ofLimit = (run: { requests: number; seconds: number }) => `${((rate(run) / LIVE_RATE) * 100).toFixed(0)} % of the limiter's rate`;

const invoices = first.outcome.invoices.length;
const perInvoice = first.requests / invoices;
const rows: Array<[string, string]> = [
  ['Customers billed', `${invoices} of ${CUSTOMERS}`],
  ['Stripe requests', String(first.requests)],
  ['Requests per invoice', perInvoice.toFixed(2)],
  ['DynamoDB requests per invoice (ledger read, reserve, complete, invoice record)', (first.dynamoRequests / invoices).toFixed(2)],
  ['Time, no rate limit (processing + local Stripe server)', `${first.seconds.toFixed(2)} s`],
  [
    'Time at the default limits (20 req/s test key, 80 req/s live key), computed',
    `${(first.requests / 20).toFixed(0)} s test, ${(first.requests / 80).toFixed(0)} s live`,
  ],
  [
    'Same day re-run: invoices, Stripe requests, DynamoDB requests, time',
    `${again.outcome.invoices.length}, ${again.requests}, ${again.dynamoRequests}, ${again.seconds.toFixed(2)} s`,
  ],
  [
    `Rate-limited sample: ${SAMPLE} customers at 20 req/s`,
    `${limited.requests} requests in ${limited.seconds.toFixed(2)} s = ${(limited.requests / limited.seconds).toFixed(1)} req/s (Stripe test limit 25)`,
  ],
  [
    `Live key (80 req/s) at ${LATENCY_MS} ms latency, ${LATENCY_CUSTOMERS} customers: fixed concurrency 8`,
    `${fixedEight.requests} requests in ${fixedEight.seconds.toFixed(1)} s = ${rate(fixedEight).toFixed(1)} req/s (${ofLimit(fixedEight)})`,
  ],
  [
    `Live key (80 req/s) at ${LATENCY_MS} ms latency, ${LATENCY_CUSTOMERS} customers: concurrency following the rate (80)`,
    `${followsRate.requests} requests in ${followsRate.seconds.toFixed(1)} s = ${rate(followsRate).toFixed(1)} req/s (${ofLimit(followsRate)})`,
  ],
  ...atScale.map(({ size, run }): [string, string] => [
    `Live key (80 req/s) at ${LATENCY_MS} ms latency, ${size.toLocaleString('en-US')} customers: concurrency following the rate (80)`,
    `${run.outcome.invoices.length} invoices, ${run.requests} Stripe requests in ${run.seconds.toFixed(1)} s = ${rate(run).toFixed(1)} req/s (${ofLimit(run)}); ${run.dynamoRequests} DynamoDB requests (ledger, counted); bench process CPU ${run.cpuSeconds.toFixed(1)} s`,
  ]),
  ['Peak RSS (bench process, local Stripe server included)', `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`],
];
console.log(measureSection('Billing: 1,000 customers against the local Stripe server', rows, `Node ${process.version}, ${process.arch}.`));

await stripe.close();
