import { describe, expect, it } from 'vitest';
import { runBilling } from '../../../src/billing/run.js';
import type { LedgerPort, StripeBillingPort } from '../../../src/billing/types.js';
import { validateBillingConfig } from '../../../src/config/load.js';
import { parsePeriod } from '../../../src/period.js';
import { stripeBilling } from '../../../src/stripe/billing.js';
import { createStripe } from '../../../src/stripe/client.js';
import { costSnapshot } from '../../support/billing.js';

const TODAY = '2026-11-20';
const now = new Date(`${TODAY}T07:00:00Z`);
const config = validateBillingConfig({
  currency: 'usd',
  customers: Array.from({ length: 120 }, (_, index) => ({
    id: `c${index}`,
    name: `Customer ${index}`,
    match: String(100000000000 + index),
    stripeCustomerId: `cus_c${String(index).padStart(5, '0')}`,
    allowance: 100,
  })),
});
const snapshot = costSnapshot(
  config,
  parsePeriod('current', now).id,
  TODAY,
  config.customers.map((customer) => ({ id: customer.id, daily: ['150'] })),
);
const unused = () => Promise.reject(new Error('not used by a dry run'));

/** The most customers whose ledger was being read at once in a dry run. */
async function peakInFlight(stripe: StripeBillingPort | undefined, concurrency?: number): Promise<number> {
  let running = 0;
  let peak = 0;
  const ledger: LedgerPort = {
    async read() {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 1));
      running -= 1;
      return { entries: [], version: 0 };
    },
    reserve: unused,
    complete: unused,
    release: unused,
    recordInvoice: unused,
    invoiceStatus: unused,
  };
  await runBilling({ loadCosts: async () => snapshot, ledger, stripe }, config, {
    mode: 'scheduled',
    period: parsePeriod('current', now),
    now,
    dryRun: true,
    ...(concurrency ? { concurrency } : {}),
  });
  return peak;
}

const port = (requestsPerSecond?: number): StripeBillingPort => ({
  ...(requestsPerSecond === undefined ? {} : { requestsPerSecond }),
  issueInvoice: unused,
  creditBalance: unused,
  sendMeterEvent: unused,
  dashboardUrl: () => '',
});

describe('billing concurrency', () => {
  it("keeps a second of the Stripe adapter's rate in flight: 80 customers with a live key, 20 with a test key", async () => {
    const client = createStripe('sk_test_concurrency', { host: '127.0.0.1', port: 9, protocol: 'http' });
    const live = stripeBilling(client, { livemode: true });
    const test = stripeBilling(client, { livemode: false });

    expect(live.requestsPerSecond).toBe(80);
    expect(test.requestsPerSecond).toBe(20);
    expect(await peakInFlight(live)).toBe(80);
    expect(await peakInFlight(test)).toBe(20);
  });

  it('follows a configured rate, takes an explicit concurrency over it, and keeps 8 without a rate', async () => {
    expect(await peakInFlight(port(5))).toBe(8);
    expect(await peakInFlight(port(100))).toBe(100);
    expect(await peakInFlight(port(80), 3)).toBe(3);
    expect(await peakInFlight(port(Infinity))).toBe(8);
    expect(await peakInFlight(undefined)).toBe(8);
  });
});
