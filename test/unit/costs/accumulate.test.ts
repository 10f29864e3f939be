import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CostAccumulator } from '../../../src/costs/accumulate.js';
import { MoneyError, parseAmount, sum } from '../../../src/money.js';

const window = { start: '2026-11-01', endExclusive: '2026-11-15' };
const EC2 = 'Amazon Elastic Compute Cloud - Compute';
const S3 = 'Amazon Simple Storage Service';

describe('CostAccumulator', () => {
  it('sums amounts exactly in micros where floats drift', () => {
    const costs = new CostAccumulator(window);
    for (let i = 0; i < 10; i++) costs.add('111111111111', EC2, '2026-11-01', '0.1', 'USD');
    costs.add('111111111111', EC2, '2026-11-01', '0.2', 'USD');
    // 10 × 0.1 + 0.2 as floats is 1.2000000000000002; in micros it is exactly 1.2.
    expect(costs.byKey.get('111111111111')?.cost).toBe(1_200_000);
    expect(costs.byKey.get('111111111111')?.daily[0]).toBe(1_200_000);
  });

  it('rounds each Cost Explorer amount to the micro (half away from zero) before summing', () => {
    const costs = new CostAccumulator(window);
    costs.add('k', EC2, '2026-11-02', '0.0000004999', 'USD');
    costs.add('k', EC2, '2026-11-02', '1.2345675', 'USD');
    costs.add('k', S3, '2026-11-02', '-0.0000005', 'USD');
    expect(costs.byKey.get('k')?.cost).toBe(1_234_568 - 1);
    expect(costs.byKey.get('k')?.services).toEqual(
      new Map([
        [EC2, 1_234_568],
        [S3, -1],
      ]),
    );
  });

  it('groups per key, per service within a key and per day of the window', () => {
    const costs = new CostAccumulator(window);
    costs.add('111111111111', EC2, '2026-11-01', '10', 'USD');
    costs.add('111111111111', S3, '2026-11-01', '1.5', 'USD');
    costs.add('111111111111', EC2, '2026-11-14', '2.25', 'USD');
    costs.add('222222222222', S3, '2026-11-03', '7', 'USD');

    expect([...costs.byKey.keys()]).toEqual(['111111111111', '222222222222']);
    const first = costs.byKey.get('111111111111')!;
    expect(first.cost).toBe(13_750_000);
    expect(first.services).toEqual(
      new Map([
        [EC2, 12_250_000],
        [S3, 1_500_000],
      ]),
    );
    expect(first.daily).toHaveLength(14);
    expect(first.daily[0]).toBe(11_500_000);
    expect(first.daily[13]).toBe(2_250_000);
    expect(sum(first.daily)).toBe(first.cost);

    const second = costs.byKey.get('222222222222')!;
    expect(second.cost).toBe(7_000_000);
    expect(second.services).toEqual(new Map([[S3, 7_000_000]]));
    expect(second.daily).toEqual([0, 0, 7_000_000, ...Array<number>(11).fill(0)]);
  });

  it('keeps cost under any key, including the empty key of rows with no linked account: nothing is dropped', () => {
    const costs = new CostAccumulator(window);
    costs.add('', 'Tax', '2026-11-05', '3.30', 'USD');
    costs.add('999999999999', EC2, '2026-11-05', '4', 'USD');
    expect(costs.byKey.get('')?.cost).toBe(3_300_000);
    expect(costs.byKey.get('999999999999')?.cost).toBe(4_000_000);
  });

  it('keeps negative amounts (refunds, credits) as they come', () => {
    const costs = new CostAccumulator(window);
    costs.add('k', EC2, '2026-11-01', '5', 'USD');
    costs.add('k', EC2, '2026-11-01', '-7.5', 'USD');
    expect(costs.byKey.get('k')?.cost).toBe(-2_500_000);
    expect(costs.byKey.get('k')?.daily[0]).toBe(-2_500_000);
  });

  it('creates no entry for zero amounts, but still records their unit', () => {
    const costs = new CostAccumulator(window);
    costs.add('k', EC2, '2026-11-01', '0', 'USD');
    costs.add('k', EC2, '2026-11-01', '0.0000000', '');
    expect(costs.byKey.size).toBe(0);
    expect([...costs.units]).toEqual(['USD']);
  });

  it('collects every distinct non-empty unit it sees', () => {
    const costs = new CostAccumulator(window);
    costs.add('a', EC2, '2026-11-01', '1', 'USD');
    costs.add('b', EC2, '2026-11-01', '1', 'EUR');
    costs.add('c', EC2, '2026-11-01', '1', 'USD');
    costs.add('d', EC2, '2026-11-01', '1', '');
    expect([...costs.units].sort()).toEqual(['EUR', 'USD']);
  });

  it('sizes the daily series by the window, one entry per day', () => {
    const february = new CostAccumulator({ start: '2026-02-01', endExclusive: '2026-03-01' });
    february.add('k', EC2, '2026-02-28', '1', 'USD');
    expect(february.byKey.get('k')?.daily).toHaveLength(28);
    expect(february.byKey.get('k')?.daily[27]).toBe(1_000_000);
  });

  it('counts a row dated outside the window in the total and its service but in no day', () => {
    const costs = new CostAccumulator(window);
    costs.add('k', EC2, '2026-10-31', '1', 'USD');
    costs.add('k', EC2, '2026-11-15', '2', 'USD');
    const k = costs.byKey.get('k')!;
    expect(k.cost).toBe(3_000_000);
    expect(k.services.get(EC2)).toBe(3_000_000);
    expect(k.daily.every((amount) => amount === 0)).toBe(true);
    expect(k.daily).toHaveLength(14);
  });

  it('starts not estimated; the caller sets the flag', () => {
    const costs = new CostAccumulator(window);
    costs.add('k', EC2, '2026-11-01', '1', 'USD');
    expect(costs.estimated).toBe(false);
  });

  it('rejects an amount that is not a decimal, naming it, and keeps what it had', () => {
    const costs = new CostAccumulator(window);
    costs.add('k', EC2, '2026-11-01', '1', 'USD');
    expect(() => costs.add('k', EC2, '2026-11-01', '1,5', 'USD')).toThrow(new MoneyError('amount "1,5" is not a decimal number such as "12.34"'));
    expect(costs.byKey.get('k')?.cost).toBe(1_000_000);
  });

  const row = fc.tuple(
    fc.constantFrom('111111111111', '222222222222', ''),
    fc.constantFrom(EC2, S3, 'Tax'),
    fc.integer({ min: 1, max: 14 }),
    fc.tuple(fc.integer({ min: -9_999, max: 99_999 }), fc.nat(9_999_999_999)).map(([whole, fraction]) => `${whole}.${String(fraction).padStart(10, '0')}`),
  );

  test.prop([fc.array(row, { maxLength: 200 })])(
    'for any rows: each key total equals its services and its days, and all keys together equal every row',
    (rows) => {
      const costs = new CostAccumulator(window);
      for (const [key, service, day, amount] of rows) costs.add(key, service, `2026-11-${String(day).padStart(2, '0')}`, amount, 'USD');

      const expected = sum(rows.map((r) => parseAmount(r[3])));
      expect(sum([...costs.byKey.values()].map((k) => k.cost))).toBe(expected);
      for (const [key, k] of costs.byKey) {
        expect(sum(k.services.values())).toBe(k.cost);
        expect(sum(k.daily)).toBe(k.cost);
        expect(k.cost).toBe(sum(rows.filter((r) => r[0] === key).map((r) => parseAmount(r[3]))));
        for (const [service, amount] of k.services) {
          expect(amount).toBe(sum(rows.filter((r) => r[0] === key && r[1] === service).map((r) => parseAmount(r[3]))));
        }
        k.daily.forEach((amount, day) => {
          expect(amount).toBe(sum(rows.filter((r) => r[0] === key && r[2] === day + 1).map((r) => parseAmount(r[3]))));
        });
      }
    },
  );
});
