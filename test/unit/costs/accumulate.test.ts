import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { CostAccumulator, parseCostAmount } from '../../../src/costs/accumulate.js';
import { MoneyError, parseAmount, sum } from '../../../src/money.js';

const window = { start: '2026-11-01', endExclusive: '2026-11-15' };
const EC2 = 'Amazon Elastic Compute Cloud - Compute';
const S3 = 'Amazon Simple Storage Service';

describe('CostAccumulator', () => {
  it('sums amounts exactly in micros where floats drift', () => {
    const costs = new CostAccumulator(window);
    for (let i = 0; i < 10; i++) costs.addService('111111111111', EC2, '0.1', 'USD');
    costs.addService('111111111111', EC2, '0.2', 'USD');
    // 10 × 0.1 + 0.2 as floats is 1.2000000000000002; in micros it is exactly 1.2.
    expect(costs.byKey.get('111111111111')?.cost).toBe(1_200_000);
    for (let i = 0; i < 10; i++) costs.addDay('111111111111', '2026-11-01', '0.1', 'USD');
    expect(costs.byKey.get('111111111111')?.daily[0]).toBe(1_000_000);
  });

  it('rounds each Cost Explorer amount to the micro (half away from zero) before summing', () => {
    const costs = new CostAccumulator(window);
    costs.addService('k', EC2, '0.0000004999', 'USD');
    costs.addService('k', EC2, '1.2345675', 'USD');
    costs.addService('k', S3, '-0.0000005', 'USD');
    expect(costs.byKey.get('k')?.cost).toBe(1_234_568 - 1);
    expect(costs.byKey.get('k')?.services).toEqual(
      new Map([
        [EC2, 1_234_568],
        [S3, -1],
      ]),
    );
  });

  it('takes the cost from the per-service totals and spreads it over the days from the daily totals', () => {
    const costs = new CostAccumulator(window);
    costs.addService('111111111111', EC2, '12.25', 'USD');
    costs.addService('111111111111', S3, '1.5', 'USD');
    costs.addDay('111111111111', '2026-11-01', '11.5', 'USD');
    costs.addDay('111111111111', '2026-11-14', '2.25', 'USD');
    costs.addService('222222222222', S3, '7', 'USD');
    costs.addDay('222222222222', '2026-11-03', '7', 'USD');

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
    expect(second.daily).toEqual([0, 0, 7_000_000, ...Array<number>(11).fill(0)]);
  });

  it('keeps cost under any key, including the empty key of rows with no linked account: nothing is dropped', () => {
    const costs = new CostAccumulator(window);
    costs.addService('', 'Tax', '3.30', 'USD');
    costs.addService('999999999999', EC2, '4', 'USD');
    expect(costs.byKey.get('')?.cost).toBe(3_300_000);
    expect(costs.byKey.get('999999999999')?.cost).toBe(4_000_000);
  });

  it('keeps negative amounts (refunds, credits) as they come', () => {
    const costs = new CostAccumulator(window);
    costs.addService('k', EC2, '5', 'USD');
    costs.addService('k', EC2, '-7.5', 'USD');
    costs.addDay('k', '2026-11-01', '-2.5', 'USD');
    expect(costs.byKey.get('k')?.cost).toBe(-2_500_000);
    expect(costs.byKey.get('k')?.daily[0]).toBe(-2_500_000);
  });

  it('creates no entry for zero amounts, but still records their unit', () => {
    const costs = new CostAccumulator(window);
    costs.addService('k', EC2, '0', 'USD');
    costs.addDay('k', '2026-11-01', '0.0000000', '');
    expect(costs.byKey.size).toBe(0);
    expect([...costs.units]).toEqual(['USD']);
  });

  it('collects every distinct non-empty unit it sees', () => {
    const costs = new CostAccumulator(window);
    costs.addService('a', EC2, '1', 'USD');
    costs.addService('b', EC2, '1', 'EUR');
    costs.addDay('c', '2026-11-01', '1', 'USD');
    costs.addService('d', EC2, '1', '');
    expect([...costs.units].sort()).toEqual(['EUR', 'USD']);
  });

  it('sizes the daily series by the window, one entry per day', () => {
    const february = new CostAccumulator({ start: '2026-02-01', endExclusive: '2026-03-01' });
    february.addDay('k', '2026-02-28', '1', 'USD');
    expect(february.byKey.get('k')?.daily).toHaveLength(28);
    expect(february.byKey.get('k')?.daily[27]).toBe(1_000_000);
  });

  it('counts a day outside the window in no day', () => {
    const costs = new CostAccumulator(window);
    costs.addService('k', EC2, '3', 'USD');
    costs.addDay('k', '2026-10-31', '1', 'USD');
    costs.addDay('k', '2026-11-15', '2', 'USD');
    const k = costs.byKey.get('k')!;
    expect(k.cost).toBe(3_000_000);
    expect(k.daily.every((amount) => amount === 0)).toBe(true);
    expect(k.daily).toHaveLength(14);
  });

  it('keeps the lookback days before the window apart: no cost, day, unit or estimated flag of the window', () => {
    const costs = new CostAccumulator(window, '2026-10-29');
    expect(costs.lookbackDays).toBe(3);
    costs.addDay('k', '2026-10-28', '9', 'USD'); // before the lookback: ignored
    costs.addDay('k', '2026-10-29', '1', 'EUR');
    costs.addDay('k', '2026-10-31', '2.5', 'EUR');
    costs.addDay('only-before', '2026-10-30', '4', 'EUR');
    costs.markEstimated('2026-10-29');
    expect(costs.lookbackByKey.get('k')).toEqual([1_000_000, 0, 2_500_000]);
    expect(costs.lookbackByKey.get('only-before')).toEqual([0, 4_000_000, 0]);
    expect(costs.byKey.size).toBe(0);
    expect(costs.units.size).toBe(0);
    expect(costs.estimated).toBe(false);
    costs.markEstimated('2026-11-01');
    expect(costs.estimated).toBe(true);
  });

  it('starts not estimated; the caller sets the flag', () => {
    const costs = new CostAccumulator(window);
    costs.addService('k', EC2, '1', 'USD');
    expect(costs.estimated).toBe(false);
  });

  it('rejects an amount that is not a decimal, naming it, and keeps what it had', () => {
    const costs = new CostAccumulator(window);
    costs.addService('k', EC2, '1', 'USD');
    expect(() => costs.addService('k', EC2, '1,5', 'USD')).toThrow(new MoneyError('amount "1,5" is not a decimal number such as "12.34"'));
    expect(() => costs.addDay('k', '2026-11-01', '1.', 'USD')).toThrow(MoneyError);
    expect(costs.byKey.get('k')?.cost).toBe(1_000_000);
  });

  const row = fc.tuple(
    fc.constantFrom('111111111111', '222222222222', ''),
    fc.constantFrom(EC2, S3, 'Tax'),
    fc.tuple(fc.integer({ min: -9_999, max: 99_999 }), fc.nat(9_999_999_999)).map(([whole, fraction]) => `${whole}.${String(fraction).padStart(10, '0')}`),
  );

  test.prop([fc.array(row, { maxLength: 200 })])('for any rows: each key total equals its services, and all keys together equal every row', (rows) => {
    const costs = new CostAccumulator(window);
    for (const [key, service, amount] of rows) costs.addService(key, service, amount, 'USD');

    const expected = sum(rows.map((r) => parseAmount(r[2])));
    expect(sum([...costs.byKey.values()].map((k) => k.cost))).toBe(expected);
    for (const [key, k] of costs.byKey) {
      expect(sum(k.services.values())).toBe(k.cost);
      expect(k.cost).toBe(sum(rows.filter((r) => r[0] === key).map((r) => parseAmount(r[2]))));
    }
  });
});

describe('parseCostAmount', () => {
  const decimal = fc
    .tuple(fc.boolean(), fc.nat(1e12), fc.option(fc.stringMatching(/^\d{1,16}$/), { nil: undefined }))
    .map(([negative, whole, fraction]) => `${negative ? '-' : ''}${whole}${fraction === undefined ? '' : `.${fraction}`}`);

  test.prop([decimal])('gives exactly what parseAmount gives for any decimal Cost Explorer sends', (text) => {
    const outcome = (parse: (t: string) => number) => {
      try {
        return parse(text);
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(outcome(parseCostAmount)).toBe(outcome(parseAmount));
  });

  it('rounds half away from zero at the 6th decimal and rejects what parseAmount rejects', () => {
    expect(parseCostAmount('0.0000005')).toBe(1);
    expect(parseCostAmount('-0.0000005')).toBe(-1);
    expect(parseCostAmount('-0.0000004')).toBe(0);
    expect(Object.is(parseCostAmount('-0.0000004'), -0)).toBe(false);
    expect(parseCostAmount('12.3456789012')).toBe(12_345_679);
    for (const bad of ['', '-', '1.', '.5', '1,5', '1e3', 'NaN']) expect(() => parseCostAmount(bad)).toThrow(MoneyError);
  });
});
