import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { overageBasis, planCustomer, trueUpOpensOn, type PlanRequest } from '../../../src/billing/plan.js';
import type { CustomerPlan, LedgerEntry } from '../../../src/billing/types.js';
import type { Customer } from '../../../src/config/load.js';
import type { CustomerCosts } from '../../../src/costs/types.js';
import { fromUnits, parseAmount, toMinorUnits, type Micros } from '../../../src/money.js';
import { monthPeriod } from '../../../src/period.js';

const november = monthPeriod(2026, 11);

function customer(overrides: Partial<Customer> = {}): Customer {
  return {
    id: 'acme',
    name: 'Acme Corp',
    match: '111111111111',
    stripeCustomerId: 'cus_acme0001',
    allowance: fromUnits(100),
    markupPercent: 10,
    currency: 'usd',
    alertLevels: [],
    mode: 'invoice',
    meterEventName: undefined,
    ...overrides,
  };
}

function costs(daily: readonly Micros[], services: string[] = ['Amazon EC2']): CustomerCosts {
  const cost = daily.reduce((total, amount) => total + amount, 0);
  return {
    customerId: 'acme',
    name: 'Acme Corp',
    currency: 'usd',
    cost,
    allowance: 0,
    forecast: cost,
    services: services.map((service) => ({ service, amount: 0 })),
    daily,
  };
}

function request(day: number, overrides: Partial<PlanRequest> = {}): PlanRequest {
  const now = new Date(Date.UTC(2026, 10, day, 7));
  return {
    mode: 'scheduled',
    period: november,
    now,
    billing: { minimumInvoiceAmount: fromUnits(1), trueUpDay: 3, collectionMethod: 'send_invoice', daysUntilDue: 30, invoiceServiceLines: 5 },
    windowStart: november.start,
    ...overrides,
  };
}

/** What a run does to the ledger once its actions succeed. */
function settle(ledger: LedgerEntry[], plan: CustomerPlan): void {
  for (const action of plan.actions) ledger.push({ ...action.entry, status: 'completed' });
}

describe('planCustomer', () => {
  it('names the period, the day and the largest services in the invoice line', () => {
    const plan = planCustomer(customer(), costs([fromUnits(200)], ['Amazon EC2', 'Amazon S3', 'AWS Lambda', 'Amazon RDS']), [], request(10));
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]?.entry).toMatchObject({
      entryId: 'overage-2026-11-10',
      kind: 'overage',
      amountMinor: 12000,
      status: 'pending',
      description: 'AWS usage above the allowance, November 2026, to 2026-11-10 (largest: Amazon EC2, Amazon S3, AWS Lambda)',
    });
    expect(plan.basis).toMatchObject({ cost: fromUnits(200), costWithMarkup: fromUnits(220), overage: fromUnits(120), overageMinor: 12000 });
  });

  it('fixes the invoice lines by service and the figures behind them in the entry, at planning', () => {
    const breakdown = {
      ...costs([fromUnits(150), fromUnits(50)]),
      services: [20, 130, 50].map((units, i) => ({ service: `S${i}`, amount: fromUnits(units) })),
    };
    const first = planCustomer(customer(), breakdown, [], request(3, { billing: { ...request(3).billing, invoiceServiceLines: 1 } }));
    // 200 cost -> 220 with markup -> 120 over: 12000 cents shared 130 : (50 + 20).
    expect(first.actions[0]?.entry).toMatchObject({
      amountMinor: 12000,
      lines: [
        { description: 'S1', amountMinor: 7800 },
        { description: 'Other AWS services', amountMinor: 4200 },
      ],
      invoiceFields: [
        { name: 'Period', value: 'November 2026, to 2026-11-03' },
        { name: 'Monthly allowance', value: '$100.00' },
        { name: 'AWS cost with markup', value: '$220.00 (AWS cost $200.00 + 10% markup)' },
        { name: 'Billed earlier this period', value: '$0.00' },
      ],
    });
    const completed = { ...first.actions[0]!.entry, status: 'completed' as const };
    const later = planCustomer(customer({ markupPercent: -20 }), { ...breakdown, cost: fromUnits(300) }, [completed], request(4));
    expect(later.actions[0]?.entry.lines?.reduce((total, line) => total + line.amountMinor, 0)).toBe(later.actions[0]?.entry.amountMinor);
    expect(later.actions[0]?.entry.invoiceFields).toContainEqual({ name: 'AWS cost with markup', value: '$240.00 (AWS cost $300.00 − 20% markup)' });
    expect(later.actions[0]?.entry.invoiceFields).toContainEqual({ name: 'Billed earlier this period', value: '$120.00' });
  });

  it('adds no invoice lines to meter events or credits', () => {
    const metered = planCustomer(customer({ mode: 'meter', meterEventName: 'aws_usage' }), costs([fromUnits(200)]), [], request(2));
    expect(metered.actions.map((action) => [action.kind, action.entry.lines])).toEqual([['meter', undefined]]);
    const billed = { ...planCustomer(customer(), costs([fromUnits(200)]), [], request(2)).actions[0]!.entry, status: 'completed' as const };
    const trueUp = planCustomer(customer(), costs([fromUnits(150)]), [billed], { ...request(1, { mode: 'true-up' }), now: new Date('2026-12-03T07:00:00Z') });
    expect(trueUp.actions.map((action) => [action.kind, action.entry.lines])).toEqual([['credit', undefined]]);
  });

  it('resumes pending entries and counts them as billed', () => {
    const pending: LedgerEntry = { ...planCustomer(customer(), costs([fromUnits(200)]), [], request(10)).actions[0]!.entry };
    const plan = planCustomer(customer(), costs([fromUnits(200)]), [pending], request(11));
    expect(plan.resume.map((action) => action.entry.entryId)).toEqual(['overage-2026-11-10']);
    expect(plan.actions).toEqual([]);
    expect(plan.alreadyBilledMinor).toBe(12000);
    expect(plan.amountNowMinor).toBe(12000);
  });

  it('names a fixed charge after its period, amount and description, so the same dispatch is the same entry', () => {
    const fixedCharge = { amount: fromUnits(250), description: 'Migration support' };
    const first = planCustomer(customer(), undefined, [], request(10, { mode: 'fixed-amount', fixedCharge }));
    const pending = first.actions[0]!.entry;
    expect(pending).toMatchObject({ kind: 'fixed', amountMinor: 25000 });
    expect(pending.entryId).toMatch(/^fixed-[0-9a-f]{16}$/);
    const again = planCustomer(customer(), undefined, [pending], request(12, { mode: 'fixed-amount', fixedCharge }));
    expect(again.actions).toEqual([]);
    expect(again.resume.map((action) => action.entry.entryId)).toEqual([pending.entryId]);
    expect(again.amountNowMinor).toBe(25000);
    expect(again.alreadyBilledMinor).toBe(0);
    const other = planCustomer(
      customer(),
      undefined,
      [pending],
      request(12, { mode: 'fixed-amount', fixedCharge: { ...fixedCharge, description: 'Training' } }),
    );
    expect(other.actions[0]?.entry.entryId).not.toBe(pending.entryId);
  });

  it('does not credit a decrease during the month: that waits for the true-up', () => {
    const billed: LedgerEntry = { ...planCustomer(customer(), costs([fromUnits(200)]), [], request(10)).actions[0]!.entry, status: 'completed' };
    const plan = planCustomer(customer(), costs([fromUnits(150)]), [billed], request(11));
    expect(plan.actions).toEqual([]);
    expect(plan.note).toContain('credited at the true-up');
  });

  it('opens the true-up on billing.trueUpDay of the next month', () => {
    expect(trueUpOpensOn(november, 3)).toBe('2026-12-03');
    expect(trueUpOpensOn(monthPeriod(2026, 12), 28)).toBe('2027-01-28');
  });

  it('rounds zero-decimal currencies to whole units', () => {
    const basis = overageBasis(customer({ currency: 'jpy', allowance: fromUnits(1000), markupPercent: 0 }), costs([parseAmount('1500.5')]));
    expect(basis.overageMinor).toBe(501);
  });
});

/** Round half away from zero of numerator / denominator, in BigInt: an independent statement of the rule. */
function roundHalfAway(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  const quotient = (2n * magnitude + denominator) / (2n * denominator);
  return negative ? -quotient : quotient;
}

const dailyCents = fc.array(fc.integer({ min: 0, max: 5_000_000_000 }), { minLength: 1, maxLength: 30 });
const markupBasisPoints = fc.integer({ min: 0, max: 10_000 });
const allowanceUnits = fc.integer({ min: 0, max: 20_000 });

describe('markup and rounding properties', () => {
  test.prop([dailyCents, markupBasisPoints, allowanceUnits], { numRuns: 300 })(
    'the overage is the marked-up cost less the allowance, rounded once half away from zero, never negative',
    (daily, basisPoints, allowance) => {
      const dailyMicros = daily.map((micros) => micros);
      const basis = overageBasis(customer({ markupPercent: basisPoints / 100, allowance: fromUnits(allowance) }), costs(dailyMicros));
      const cost = BigInt(dailyMicros.reduce((total, amount) => total + amount, 0));
      const withMarkup = roundHalfAway(cost * BigInt(10_000 + basisPoints), 10_000n);
      const overage = withMarkup - BigInt(fromUnits(allowance));
      const expected = overage > 0n ? roundHalfAway(overage, 10_000n) : 0n;
      expect(BigInt(basis.overageMinor)).toBe(expected);
      expect(basis.overageMinor).toBeGreaterThanOrEqual(0);
    },
  );

  test.prop([dailyCents, markupBasisPoints, allowanceUnits, fc.integer({ min: 0, max: 500 })], { numRuns: 200 })(
    'daily runs then a true-up bill exactly the rounded final overage, with no negative invoice',
    (daily, basisPoints, allowance, minimumUnits) => {
      const billed: LedgerEntry[] = [];
      const who = customer({ markupPercent: basisPoints / 100, allowance: fromUnits(allowance) });
      const billing = {
        minimumInvoiceAmount: fromUnits(minimumUnits),
        trueUpDay: 3,
        collectionMethod: 'send_invoice' as const,
        daysUntilDue: 30,
        invoiceServiceLines: 5,
      };
      for (let day = 1; day <= daily.length; day++) {
        const plan = planCustomer(who, costs(daily.slice(0, day)), billed, request(day + 1, { billing }));
        for (const action of plan.actions) {
          expect(action.entry.amountMinor).toBeGreaterThanOrEqual(Math.max(1, toMinorUnits(billing.minimumInvoiceAmount, 'usd')));
        }
        settle(billed, plan);
      }
      const final = costs(daily);
      const trueUp = planCustomer(who, final, billed, { ...request(1, { billing, mode: 'true-up' }), now: new Date('2026-12-03T07:00:00Z') });
      settle(billed, trueUp);
      const target = overageBasis(who, final).overageMinor;
      const total = billed.reduce((sum, entry) => sum + entry.amountMinor, 0);
      // A positive final difference under the minimum invoice amount is waived; every other difference is settled.
      expect(target - total).toBeGreaterThanOrEqual(0);
      expect(target - total).toBeLessThan(Math.max(1, toMinorUnits(billing.minimumInvoiceAmount, 'usd')));
      if (minimumUnits === 0) expect(total).toBe(target);
      // Only the true-up may be 0: it closes the period when there is nothing (or too little) to bill.
      for (const entry of billed) if (entry.kind !== 'credit') expect(entry.amountMinor).toBeGreaterThanOrEqual(entry.entryId === 'true-up' ? 0 : 1);
    },
  );

  test.prop(
    [dailyCents, markupBasisPoints, allowanceUnits, fc.array(fc.integer({ min: -3_000_000_000, max: 3_000_000_000 }), { minLength: 30, maxLength: 30 })],
    { numRuns: 200 },
  )('a true-up after revised data credits or bills the difference so the period ends at the final overage', (daily, basisPoints, allowance, revisions) => {
    const billed: LedgerEntry[] = [];
    const who = customer({ markupPercent: basisPoints / 100, allowance: fromUnits(allowance) });
    const billing = { minimumInvoiceAmount: 0, trueUpDay: 3, collectionMethod: 'send_invoice' as const, daysUntilDue: 30, invoiceServiceLines: 5 };
    settle(billed, planCustomer(who, costs(daily), billed, request(daily.length + 1, { billing })));
    const revised = daily.map((amount, index) => Math.max(0, amount + (revisions[index] ?? 0)));
    const trueUp = planCustomer(who, costs(revised), billed, { ...request(1, { billing, mode: 'true-up' }), now: new Date('2026-12-03T07:00:00Z') });
    for (const action of trueUp.actions) expect(action.kind === 'credit').toBe(action.entry.amountMinor < 0);
    settle(billed, trueUp);
    expect(billed.reduce((sum, entry) => sum + entry.amountMinor, 0)).toBe(overageBasis(who, costs(revised)).overageMinor);
  });

  test.prop([dailyCents, markupBasisPoints, allowanceUnits], { numRuns: 200 })(
    'meter events of a period add up to the rounded overage, each a positive whole number of minor units',
    (daily, basisPoints, allowance) => {
      const who = customer({ markupPercent: basisPoints / 100, allowance: fromUnits(allowance), mode: 'meter', meterEventName: 'aws_usage' });
      const plan = planCustomer(who, costs(daily), [], request(daily.length + 1));
      const values = plan.actions.map((action) => action.entry.amountMinor);
      for (const value of values) expect(Number.isInteger(value) && value > 0).toBe(true);
      expect(values.reduce((sum, value) => sum + value, 0)).toBe(overageBasis(who, costs(daily)).overageMinor);
      expect(new Set(plan.actions.map((action) => action.entry.meterIdentifier)).size).toBe(values.length);
    },
  );
});
