import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { allocateLines, largestRemainder, LineAllocationError, MAX_SERVICE_LINES, OTHER_SERVICES } from '../../../src/billing/lines.js';
import { fromUnits } from '../../../src/money.js';

const service = (name: string, units: number) => ({ service: name, amount: fromUnits(units) });

describe('allocateLines', () => {
  it('gives the top services a line each and the rest one "Other AWS services" line, largest charge first', () => {
    const lines = allocateLines(10_000, [service('S3', 20), service('EC2', 50), service('Lambda', 10), service('RDS', 15), service('SNS', 5)], 2, 'fallback');
    expect(lines).toEqual([
      { description: 'EC2', amountMinor: 5000 },
      { description: 'S3', amountMinor: 2000 },
      { description: OTHER_SERVICES, amountMinor: 3000 },
    ]);
  });

  it('hands the cents left by flooring to the largest remainders, so the lines add up exactly', () => {
    // 100 cents in thirds: 33.33 each; the one cent left goes to the first of the equal remainders.
    expect(allocateLines(100, [service('A', 1), service('B', 1), service('C', 1)], 5, 'fallback').map((line) => line.amountMinor)).toEqual([34, 33, 33]);
    // 890 cents 60 : 30 : 9 = 539.39, 269.70, 80.91: the two cents go to 80.91 and 269.70.
    expect(allocateLines(890, [service('EC2', 60), service('S3', 30), service('Lambda', 9)], 5, 'fallback').map((line) => line.amountMinor)).toEqual([
      539, 270, 81,
    ]);
  });

  it('orders equal charges by service name, whatever order the report lists them in', () => {
    const forward = allocateLines(1001, [service('B', 1), service('A', 1)], 5, 'fallback');
    const backward = allocateLines(1001, [service('A', 1), service('B', 1)], 5, 'fallback');
    expect(forward).toEqual(backward);
    expect(forward).toEqual([
      { description: 'A', amountMinor: 501 },
      { description: 'B', amountMinor: 500 },
    ]);
  });

  it('gives no share to services with no positive charge and leaves lines of 0 out', () => {
    const lines = allocateLines(5, [service('EC2', 1000), service('Tax', -3), service('Free', 0), service('Tiny', 0.01)], 5, 'fallback');
    expect(lines).toEqual([{ description: 'EC2', amountMinor: 5 }]);
  });

  it('bills the whole amount on one fallback line when no service has a positive charge', () => {
    expect(allocateLines(1234, [service('Credit', -5)], 5, 'AWS usage above the allowance')).toEqual([
      { description: 'AWS usage above the allowance', amountMinor: 1234 },
    ]);
    expect(allocateLines(1234, [], 5, 'AWS usage')).toEqual([{ description: 'AWS usage', amountMinor: 1234 }]);
  });

  it('refuses a line count Stripe cannot take and an amount that is not whole minor units, naming the value', () => {
    expect(() => allocateLines(100, [], 0, 'x')).toThrow(new LineAllocationError(`serviceLines is 0; expected a whole number from 1 to ${MAX_SERVICE_LINES}`));
    expect(() => allocateLines(100, [], 250, 'x')).toThrow('serviceLines is 250');
    expect(() => allocateLines(12.5, [], 5, 'x')).toThrow('amount 12.5 cannot be itemized');
    expect(() => allocateLines(-1, [], 5, 'x')).toThrow('amount -1 cannot be itemized');
  });
});

describe('largestRemainder', () => {
  it('refuses weights that add up to nothing', () => {
    expect(() => largestRemainder(10, [0, 0])).toThrow(LineAllocationError);
  });

  it('stays exact for amounts and weights whose product is beyond 2^53', () => {
    const shares = largestRemainder(99_999_999_999, [9_000_000_000_000_000, 1]);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(99_999_999_999);
    expect(shares[1]).toBe(0);
  });
});

// Cost Explorer lists each service once per customer.
const services = fc.uniqueArray(
  fc.record({
    service: fc.string({ minLength: 1, maxLength: 12 }),
    amount: fc.oneof(fc.integer({ min: -5_000_000, max: 0 }), fc.integer({ min: 0, max: 50_000_000_000 })),
  }),
  { maxLength: 40, selector: (line) => line.service },
);

describe('allocateLines, for any amount and breakdown', () => {
  test.prop([fc.integer({ min: 0, max: 10_000_000_000 }), services, fc.integer({ min: 1, max: MAX_SERVICE_LINES })], { numRuns: 500 })(
    'the lines add up to the amount, number at most serviceLines + 1, and each is within one unit of its exact share',
    (amount, breakdown, serviceLines) => {
      const lines = allocateLines(amount, breakdown, serviceLines, 'fallback');
      expect(lines.reduce((total, line) => total + line.amountMinor, 0)).toBe(amount);
      expect(lines.length).toBeLessThanOrEqual(serviceLines + 1);
      expect(lines.every((line) => Number.isSafeInteger(line.amountMinor) && line.amountMinor > 0)).toBe(true);

      const positive = breakdown.filter((line) => line.amount > 0);
      const total = positive.reduce((sum, line) => sum + BigInt(line.amount), 0n);
      if (total === 0n) return;
      const ranked = [...positive].sort((a, b) => b.amount - a.amount || (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
      const weightOf = (line: { description: string }, index: number) =>
        line.description === OTHER_SERVICES && index === lines.length - 1 && ranked.length > serviceLines
          ? ranked.slice(serviceLines).reduce((sum, s) => sum + BigInt(s.amount), 0n)
          : BigInt(ranked.find((s) => s.service === line.description)?.amount ?? 0);
      lines.forEach((line, index) => {
        // |line − amount × weight / total| < 1, in integers: |line × total − amount × weight| < total.
        const gap = BigInt(line.amountMinor) * total - BigInt(amount) * weightOf(line, index);
        expect(gap < total && -gap < total).toBe(true);
      });
    },
  );

  test.prop([fc.integer({ min: 1, max: 1_000_000 }), services, fc.integer({ min: 1, max: 10 })])(
    'is deterministic: the same entry and report give the same lines, in any order of the report',
    (amount, breakdown, serviceLines) => {
      expect(allocateLines(amount, [...breakdown].reverse(), serviceLines, 'fallback')).toEqual(allocateLines(amount, breakdown, serviceLines, 'fallback'));
    },
  );
});
