import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillingOutcome } from '../../src/billing/run.js';
import type { LedgerPort } from '../../src/billing/types.js';
import { parseAmount } from '../../src/money.js';
import { dynamoLedger } from '../../src/store/ledger.js';
import {
  acme,
  billingConfig,
  billingRun,
  days,
  documentClient,
  initech,
  ledgerItems,
  testStripePort,
  useBillingServices,
  type BillingRunOptions,
} from '../support/billing.js';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy.js';

/**
 * The crash matrix: for every billing mode, the run dies right after each of its Stripe calls (Stripe answered; no
 * further Stripe request and no DynamoDB write gets out), then runs again with Stripe still holding the idempotency
 * keys, with the keys expired, and for meter events past the identifier dedupe window. Every ledger entry ends
 * completed with exactly one effect at Stripe.
 */
const TABLE = 'billing';
const services = useBillingServices(
  TABLE,
  [acme, initech].map((customer) => customer.stripeCustomerId),
);
const bill = billingRun(services, TABLE);
let dynamoProxy: FaultProxy;
beforeAll(async () => {
  dynamoProxy = await startFaultProxy(services.moto.endpoint);
});
afterAll(() => dynamoProxy?.stop());

const DAY = 86_400;
const acmeOnly = billingConfig([acme]);
const meterConfig = billingConfig([initech]);
const fixedCharge = { customerId: 'acme', fixedCharge: { amount: parseAmount('250.01'), description: 'Migration support, November' } };
const closedMonth = (amount: string) => [{ id: 'acme', daily: days(30, amount) }];

type Rerun = 'keys remembered' | 'keys expired' | 'dedupe window passed';

interface ModeCase {
  readonly mode: string;
  /** Stripe calls (POSTs) of the run that crashes. */
  readonly calls: number;
  readonly reruns: readonly Rerun[];
  /** Billing already done before the run that crashes (the month before a true-up). */
  readonly before?: () => Promise<unknown>;
  readonly run: BillingRunOptions;
  /** The rerun past the dedupe window happens this day. */
  readonly nextDay?: string;
}

const cases: readonly ModeCase[] = [
  {
    mode: 'scheduled invoice',
    calls: 4,
    reruns: ['keys remembered', 'keys expired'],
    run: { config: acmeOnly, today: '2026-11-10', spends: [{ id: 'acme', daily: days(9, '20') }] },
  },
  {
    mode: 'fixed charge',
    calls: 4,
    reruns: ['keys remembered', 'keys expired'],
    run: { config: acmeOnly, today: '2026-11-10', mode: 'fixed-amount', extra: fixedCharge },
  },
  {
    mode: 'true-up invoice',
    calls: 4,
    reruns: ['keys remembered', 'keys expired'],
    before: () => bill({ config: acmeOnly, today: '2026-11-30', spends: [{ id: 'acme', daily: days(29, '10') }] }),
    run: { config: acmeOnly, today: '2026-12-03', period: '2026-11', mode: 'true-up', spends: closedMonth('10') },
  },
  {
    mode: 'true-up credit',
    calls: 1,
    reruns: ['keys remembered', 'keys expired'],
    before: () => bill({ config: acmeOnly, today: '2026-11-30', spends: [{ id: 'acme', daily: days(29, '10') }] }),
    run: { config: acmeOnly, today: '2026-12-03', period: '2026-11', mode: 'true-up', spends: closedMonth('8') },
  },
  {
    mode: 'meter events',
    calls: 3,
    reruns: ['keys remembered', 'keys expired', 'dedupe window passed'],
    before: async () => {
      services.stripe.setNow(new Date('2026-11-05T07:00:00Z'));
      services.stripe.addMeter('aws_usage');
    },
    run: { config: meterConfig, today: '2026-11-05', spends: [{ id: 'initech', daily: days(4, '10') }] },
    nextDay: '2026-11-06',
  },
];

/** Stripe requests that Stripe processed (a dropped one never reached it). */
const processedCalls = () => services.stripe.requests.entries.filter((entry) => entry.method === 'POST' && entry.status !== 0).length;

/**
 * Runs `run` and kills it right after its `calls`-th Stripe call: from then on every Stripe request is dropped
 * before it reaches Stripe, and every DynamoDB request fails (through the fault proxy in front of moto).
 */
async function crashAfter(calls: number, run: BillingRunOptions): Promise<BillingOutcome> {
  const before = processedCalls();
  services.stripe.inject({ kind: 'drop', skip: calls, count: Number.POSITIVE_INFINITY });
  dynamoProxy.failWhen(() => processedCalls() - before >= calls);
  const crashedLedger: LedgerPort = dynamoLedger(documentClient(dynamoProxy.endpoint), TABLE);
  try {
    // A killed process retries nothing: one attempt per call.
    return await bill({ ...run, ledger: crashedLedger, stripe: testStripePort(services, { attempts: 1 }) });
  } finally {
    dynamoProxy.disarm();
    services.stripe.clearFaults();
  }
}

async function rerun(testCase: ModeCase, how: Rerun): Promise<BillingOutcome> {
  if (how === 'keys expired') services.stripe.forgetIdempotencyKeys();
  if (how === 'dedupe window passed') {
    services.stripe.advance(DAY);
    return bill({ ...testCase.run, today: testCase.nextDay ?? testCase.run.today });
  }
  return bill(testCase.run);
}

/** Every ledger entry completed, with exactly one matching effect at Stripe, of the entry's amount. */
async function expectOneEffectPerEntry() {
  const { entries, heads } = await ledgerItems(services.dynamo, TABLE);
  expect(entries.length).toBeGreaterThan(0);
  const state = services.stripe.state;
  for (const entry of entries) {
    const ref = `${String(entry.customerId)}/${String(entry.period)}/${String(entry.entryId)}`;
    expect(entry, ref).toMatchObject({ status: 'completed' });
    if (entry.amountMinor === 0) continue;
    if (entry.kind === 'credit') {
      const credits = [...state.balanceTransactions.values()].filter((credit) => (credit.metadata as Record<string, string>).ledgerEntry === ref);
      expect(
        credits.map((credit) => [credit.id, credit.amount]),
        ref,
      ).toEqual([[entry.creditId, entry.amountMinor]]);
    } else if (entry.meterIdentifier) {
      const events = [...state.meterEvents.values()].filter((event) => event.identifier === entry.meterIdentifier);
      expect(
        events.map((event) => (event.payload as Record<string, string>).value),
        ref,
      ).toEqual([String(entry.amountMinor)]);
    } else {
      const invoices = [...state.invoices.values()].filter((invoice) => (invoice.metadata as Record<string, string>).ledgerEntry === ref);
      expect(
        invoices.map((invoice) => [invoice.id, invoice.status, invoice.amount_due, invoice.emails_sent]),
        ref,
      ).toEqual([[entry.invoiceId, 'open', entry.amountMinor, 1]]);
      const items = [...state.invoiceItems.values()].filter((item) => item.invoice === entry.invoiceId);
      expect(items, ref).toHaveLength(1);
    }
  }
  const overage = entries.filter((entry) => entry.kind !== 'fixed').reduce((total, entry) => total + Number(entry.amountMinor), 0);
  if (heads.length > 0) expect(heads.map((head) => head.billedMinor)).toEqual([overage]);
}

describe('crash matrix: killed after each Stripe call, run again', () => {
  for (const testCase of cases) {
    for (let calls = 1; calls <= testCase.calls; calls += 1) {
      for (const how of testCase.reruns) {
        it(`${testCase.mode}: killed after Stripe call ${calls} of ${testCase.calls}, rerun with ${how}`, async () => {
          await testCase.before?.();
          const crashed = await crashAfter(calls, testCase.run);
          expect(crashed.failures.length).toBeGreaterThan(0);
          const pending = (await ledgerItems(services.dynamo, TABLE)).entries.filter((entry) => entry.status === 'pending');
          expect(pending.length).toBeGreaterThan(0);

          const resumed = await rerun(testCase, how);
          expect(resumed.failures).toEqual([]);
          await expectOneEffectPerEntry();
        });
      }
    }
  }
});
