// Bills 1,000 customers against the local Stripe test server with the ledger in moto (a real moto server, as the
// integration tests use: the ledger reserves entries with TransactWriteItems, which dynalite does not implement),
// then runs the same day again, then bills a sample at the default test-mode rate limit. Prints a markdown section.
import { runBilling, type BillingOutcome } from '../src/billing/run.js';
import { validateBillingConfig, type BillingConfig } from '../src/config/load.js';
import { parsePeriod } from '../src/period.js';
import { stripeBilling } from '../src/stripe/billing.js';
import { dynamoLedger } from '../src/store/ledger.js';
import { costSnapshot, createBillingTable, documentClient } from '../test/support/billing.js';
import { startMoto } from '../test/support/moto.js';
import { startStripeServer } from '../test/support/stripeServer.js';

const CUSTOMERS = 1_000;
const SAMPLE = 50;
const TODAY = '2026-11-20';

// Run from the repository root (npm run bench); the bundle in .bench-build cannot find the script next to moto.ts.
const moto = await startMoto({ serverScript: 'test/support/moto_server.py' });
const dynamo = documentClient(moto.endpoint);
const stripe = await startStripeServer();

function customers(count: number, prefix: string) {
  return Array.from({ length: count }, (_, index) => {
    const number = String(index + 1).padStart(5, '0');
    return { id: `${prefix}${number}`, name: `Customer ${number}`, match: `${prefix === 'c' ? 1 : 2}000000${number}`, stripeCustomerId: `cus_${prefix}${number}`, allowance: 100, markupPercent: 10 };
  });
}

async function bill(config: BillingConfig, table: string, requestsPerSecond: number): Promise<{ outcome: BillingOutcome; seconds: number; requests: number }> {
  const now = new Date(`${TODAY}T07:00:00Z`);
  const period = parsePeriod('current', now);
  const snapshot = costSnapshot(config, period.id, TODAY, config.customers.map((customer, index) => ({ id: customer.id, daily: [String(150 + (index % 97) * 1.37)] })));
  const before = stripe.requests.total;
  const started = process.hrtime.bigint();
  const outcome = await runBilling(
    { loadCosts: async () => snapshot, ledger: dynamoLedger(dynamo, table), stripe: stripeBilling(stripe.client(), { livemode: false, requestsPerSecond }) },
    config,
    { mode: 'scheduled', period, now, dryRun: false },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (outcome.failures.length > 0) throw new Error(`bench run failed for ${outcome.failures.length} customers: ${outcome.failures[0]?.message}`);
  return { outcome, seconds, requests: stripe.requests.total - before };
}

async function prepare(list: ReturnType<typeof customers>, table: string) {
  for (const customer of list) stripe.addCustomer(customer.stripeCustomerId);
  await createBillingTable(dynamo, table);
  return validateBillingConfig({ currency: 'usd', customers: list, billing: { minimumInvoiceAmount: 1 } });
}

const fullConfig = await prepare(customers(CUSTOMERS, 'c'), 'bench-full');
const first = await bill(fullConfig, 'bench-full', Infinity);
const again = await bill(fullConfig, 'bench-full', Infinity);
const sampleConfig = await prepare(customers(SAMPLE, 's'), 'bench-sample');
const limited = await bill(sampleConfig, 'bench-sample', 20);

const invoices = first.outcome.invoices.length;
const perInvoice = first.requests / invoices;
const rows = [
  ['Customers billed', `${invoices} of ${CUSTOMERS}`],
  ['Stripe requests', String(first.requests)],
  ['Requests per invoice', perInvoice.toFixed(2)],
  ['Time, no rate limit (processing + local server)', `${first.seconds.toFixed(2)} s`],
  ['Time at the default limits (20 req/s test key, 80 req/s live key), computed', `${(first.requests / 20).toFixed(0)} s test, ${(first.requests / 80).toFixed(0)} s live`],
  ['Same day re-run: invoices, Stripe requests, time', `${again.outcome.invoices.length}, ${again.requests}, ${again.seconds.toFixed(2)} s`],
  [`Rate-limited sample: ${SAMPLE} customers at 20 req/s`, `${limited.requests} requests in ${limited.seconds.toFixed(2)} s = ${(limited.requests / limited.seconds).toFixed(1)} req/s (Stripe test limit 25)`],
  ['Peak RSS of the bench process (moto runs in its own)', `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`],
];
console.log(['## Billing: 1,000 customers against the local Stripe server', '', '| Measure | Value |', '| --- | --- |', ...rows.map(([name, value]) => `| ${name} | ${value} |`), ''].join('\n'));

await stripe.close();
dynamo.destroy();
await moto.stop();
