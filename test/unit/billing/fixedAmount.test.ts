import { describe, expect, it } from 'vitest';
import { runBilling } from '../../../src/billing/run.js';
import type { LedgerPort } from '../../../src/billing/types.js';
import { validateBillingConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { parseAmount } from '../../../src/money.js';
import { parsePeriod } from '../../../src/period.js';

const untouched = () => Promise.reject(new Error('touched before the amount was checked'));
const ledger: LedgerPort = { read: untouched, reserve: untouched, complete: untouched, release: untouched, recordInvoice: untouched, invoiceStatus: untouched };
const config = validateBillingConfig({
  currency: 'usd',
  customers: [
    { id: 'acme', name: 'Acme Corp', match: '111111111111', stripeCustomerId: 'cus_acme0001', allowance: 100 },
    { id: 'yamato', name: 'Yamato', match: '222222222222', stripeCustomerId: 'cus_yamato01', allowance: 10000, currency: 'jpy' },
  ],
});
const now = new Date('2026-11-10T07:00:00Z');

function charge(customerId: string, amount: string) {
  return runBilling({ loadCosts: untouched, ledger, stripe: undefined }, config, {
    mode: 'fixed-amount',
    period: parsePeriod('current', now),
    now,
    dryRun: true,
    customerId,
    fixedCharge: { amount: parseAmount(amount), description: 'Migration support' },
  });
}

describe('fixed amounts', () => {
  it('rejects an amount with more decimals than the currency has, naming the input, the value and the form, before any side effect', async () => {
    await expect(charge('acme', '250.005')).rejects.toThrow(ConfigError);
    await expect(charge('acme', '250.005')).rejects.toThrow(
      'input amount is "250.005"; expected at most two decimals for usd, such as 250.01 (it is not rounded)',
    );
    await expect(charge('yamato', '250.5')).rejects.toThrow('input amount is "250.5"; expected a whole amount of jpy, such as 250 (it is not rounded)');
  });
});
