import { describe, expect, it } from 'vitest';
import { baselineStart, detectAnomalies, expectedCost, judgeLastDay, type AnomalySettings, type DailySeries } from '../../../src/anomalies/detect.js';
import { validateBillingConfig } from '../../../src/config/load.js';
import { collectCosts } from '../../../src/costs/collect.js';
import type { CostSnapshot } from '../../../src/costs/types.js';
import { fromUnits, type Micros } from '../../../src/money.js';
import { runCostCheck } from '../../../src/costCheck/run.js';
import { dataWindow, monthPeriod } from '../../../src/period.js';
import { sampleCostCube, type SampleCostCube } from '../../../scripts/demo/sampleCosts.mjs';
import { cubeCostExplorer, cubeFromRows, type CostRow } from '../../support/costPages.js';
import { demoConfig } from '../../support/snapshots.js';

const defaults: AnomalySettings = demoConfig.anomalies;
const $ = fromUnits;

/** A daily series from `start` where each day's cost is `cost(date, index)` in units. */
function series(start: string, days: number, cost: (date: Date, index: number) => number): DailySeries {
  const first = Date.parse(start);
  return { start, amounts: Array.from({ length: days }, (_, i) => $(cost(new Date(first + i * 86_400_000), i))) };
}
const isWeekend = (date: Date) => date.getUTCDay() === 0 || date.getUTCDay() === 6;

/** Judges every prefix of the series, as daily runs would; returns the days flagged. */
function flaggedDays(s: DailySeries, settings = defaults): string[] {
  const flagged: string[] = [];
  for (let length = 1; length <= s.amounts.length; length++) {
    const verdict = judgeLastDay({ start: s.start, amounts: s.amounts.slice(0, length) }, settings);
    if (verdict) flagged.push(verdict.day);
  }
  return flagged;
}

function snapshotOf(daily: Record<string, readonly Micros[]>, window: CostSnapshot['window']): CostSnapshot {
  return {
    period: window.start.slice(0, 7),
    window,
    metric: 'UnblendedCost',
    currency: 'usd',
    estimated: true,
    generatedAt: '2026-11-20T06:00:00.000Z',
    customers: Object.entries(daily).map(([id, amounts]) => ({
      customerId: id,
      name: id.toUpperCase(),
      currency: 'usd',
      cost: amounts.reduce((t, a) => t + a, 0),
      allowance: $(1000),
      forecast: 0,
      services: [
        { service: 'Amazon Elastic Compute Cloud - Compute', amount: $(300) },
        { service: 'Amazon Simple Storage Service', amount: $(100) },
        { service: 'AWS Lambda', amount: $(50) },
        { service: 'Amazon Route 53', amount: $(1) },
      ],
      daily: amounts,
    })),
    unmapped: { cost: 0, keys: [] },
    total: { cost: 0, forecast: 0, threshold: 0, services: [], daily: [] },
    costExplorerRequests: 1,
  };
}

describe('cost anomaly detection', () => {
  it('finds a synthetic spike and names what was expected, the actual cost and the largest services', () => {
    const steady = series('2026-11-01', 19, (date) => (isWeekend(date) ? 40 : 100)).amounts;
    const spiked = [...steady.slice(0, 18), $(350)];
    const scan = detectAnomalies(snapshotOf({ steady, spiked }, { start: '2026-11-01', endExclusive: '2026-11-20', complete: false }), defaults);
    expect(scan.day).toBe('2026-11-19');
    expect(scan.anomalies).toHaveLength(1);
    expect(scan.anomalies[0]).toMatchObject({ customerId: 'spiked', day: '2026-11-19', expected: $(100), actual: $(350), period: '2026-11' });
    expect(scan.anomalies[0]?.largestServices.map((s) => s.service)).toEqual([
      'Amazon Elastic Compute Cloud - Compute',
      'Amazon Simple Storage Service',
      'AWS Lambda',
    ]);
  });

  it('finds a spike on a weekend day that is ordinary for a weekday', () => {
    const s = series('2026-11-02', 27, (date, i) => (i === 26 ? 100 : isWeekend(date) ? 20 : 100));
    expect(new Date(Date.parse('2026-11-28')).getUTCDay()).toBe(6);
    expect(flaggedDays(s)).toEqual(['2026-11-28']);
  });

  it('needs both the ratio and the absolute minimum: small customers doubling by a few dollars are not flagged', () => {
    const small = series('2026-11-02', 20, (_, i) => (i === 19 ? 8 : 2));
    expect(flaggedDays(small)).toEqual([]);
    expect(flaggedDays(small, { ...defaults, minimum: $(5) })).toEqual(['2026-11-21']);
    const big = series('2026-11-02', 20, (_, i) => (i === 19 ? 1150 : 1000));
    expect(flaggedDays(big, { ...defaults, ratio: 1.1 })).toEqual(['2026-11-21']);
    expect(flaggedDays(big)).toEqual([]);
  });

  it('does not flag weekly rhythms: quiet weekends, busy Mondays, weekend batch jobs', () => {
    const quietWeekends = series('2026-11-02', 56, (date) => (isWeekend(date) ? 15 : 100));
    const busyMondays = series('2026-11-02', 56, (date) => (date.getUTCDay() === 1 ? 260 : 100));
    const weekendBatch = series('2026-11-02', 56, (date) => (date.getUTCDay() === 6 ? 400 : isWeekend(date) ? 30 : 100));
    expect(flaggedDays(quietWeekends)).toEqual([]);
    expect(flaggedDays(busyMondays)).toEqual([]);
    expect(flaggedDays(weekendBatch)).toEqual([]);
  });

  it('does not flag month starts: the 1st carries monthly charges and the first days have too little history', () => {
    // A month that starts with 900 of monthly fees on the 1st, then 100 a day.
    const month = series('2026-12-01', 31, (_, i) => (i === 0 ? 900 : 100));
    expect(flaggedDays(month)).toEqual([]);
    // Across a month boundary (history from the previous month), the 1st is still not judged nor used as a baseline.
    const acrossMonths = series('2026-11-20', 20, (date) => (date.getUTCDate() === 1 ? 2500 : 100));
    expect(flaggedDays(acrossMonths)).toEqual([]);
    // The 2nd to the 4th cannot be judged at all: fewer than three comparable days before them.
    const earlySpike = series('2026-12-01', 4, (_, i) => (i === 3 ? 1000 : 100));
    expect(flaggedDays(earlySpike)).toEqual([]);
  });

  it('does not flag a steady climb (3 % a day, doubling in under 4 weeks)', () => {
    const climb = series('2026-11-02', 60, (date, i) => 50 * 1.03 ** i * (isWeekend(date) ? 0.6 : 1));
    expect(flaggedDays(climb)).toEqual([]);
  });

  it('prefers the same weekday, and falls back to the same kind of day while fewer than three are known', () => {
    const history = series('2026-11-02', 21, (date) => (date.getUTCDay() === 1 ? 300 : 100)).amounts.map((amount, i) => ({
      date: new Date(Date.parse('2026-11-02') + i * 86_400_000).toISOString().slice(0, 10),
      amount,
    }));
    expect(expectedCost(history, '2026-11-23')).toBe($(300)); // a Monday: three Mondays known
    expect(expectedCost(history.slice(0, 14), '2026-11-16')).toBe($(300)); // two Mondays known: the higher of theirs and all weekdays'
    expect(expectedCost(history.slice(1, 14), '2026-11-16')).toBe($(300));
    expect(expectedCost(history.slice(0, 14), '2026-11-17')).toBe($(100)); // a Tuesday: two known, all weekdays
    expect(expectedCost(history.slice(0, 3), '2026-11-05')).toBe($(100));
    expect(expectedCost(history.slice(0, 2), '2026-11-04')).toBeUndefined();
  });

  it('looks back lookbackDays only', () => {
    // Costs stepped up from 100 to 400 a day two weeks ago: a long lookback still sees the old level.
    const stepped = series('2026-11-02', 29, (_, i) => (i >= 14 ? 400 : 100));
    const sensitive = { ...defaults, ratio: 1.5 };
    expect(judgeLastDay(stepped, { ...sensitive, lookbackDays: 28 })).toMatchObject({ expected: $(250), actual: $(400) });
    expect(judgeLastDay(stepped, { ...sensitive, lookbackDays: 7 })).toBeUndefined();
  });

  it('judges nothing when disabled, for a closed month or before the first complete day', () => {
    const spiked = [...series('2026-11-01', 18, () => 100).amounts, $(900)];
    const running = { start: '2026-11-01', endExclusive: '2026-11-20', complete: false };
    expect(detectAnomalies(snapshotOf({ spiked }, running), defaults).anomalies).toHaveLength(1);
    expect(detectAnomalies(snapshotOf({ spiked }, running), { ...defaults, enabled: false })).toEqual({ anomalies: [] });
    expect(detectAnomalies(snapshotOf({ spiked }, { ...running, endExclusive: '2026-12-01', complete: true }), defaults)).toEqual({ anomalies: [] });
    expect(detectAnomalies(snapshotOf({ spiked: [] }, { start: '2026-11-01', endExclusive: '2026-11-01', complete: false }), defaults)).toEqual({
      anomalies: [],
    });
  });
});

/** Rows of one account and service from `start` to `endExclusive`, costing `cost(date)` units a day. */
function rowsOf(account: string, start: string, endExclusive: string, cost: (date: Date) => number): CostRow[] {
  const rows: CostRow[] = [];
  for (let t = Date.parse(start); t < Date.parse(endExclusive); t += 86_400_000) {
    const date = new Date(t);
    rows.push({ account, service: 'Amazon Elastic Compute Cloud - Compute', date: date.toISOString().slice(0, 10), amount: cost(date).toFixed(4) });
  }
  return rows;
}

/** The cost check's anomalies on `day` of December 2026 (run at 06:00 UTC), costs read from `rows`. */
async function decemberRun(rows: readonly CostRow[], day: number) {
  const cube = cubeFromRows(rows, { start: '2026-10-01', endExclusive: '2027-01-01' });
  const { port, queries } = cubeCostExplorer(cube);
  const now = new Date(Date.UTC(2026, 11, day, 6));
  const result = await runCostCheck({ costExplorer: port }, demoConfig, {
    period: monthPeriod(2026, 12),
    now,
    metric: 'UnblendedCost',
    threshold: 0,
    dryRun: true,
  });
  return { ...result, queries };
}

describe('early in a month: the baseline reaches into last month', () => {
  // 900 of monthly fees on every 1st; 100 on weekdays and 40 on weekends otherwise.
  const usual = (date: Date) => (date.getUTCDate() === 1 ? 900 : isWeekend(date) ? 40 : 100);

  it("finds a spike on the 2nd (judged in the run of the 3rd) against last month's same weekdays", async () => {
    const rows = [
      ...rowsOf('111111111111', '2026-10-01', '2027-01-01', usual),
      ...rowsOf('333333333333', '2026-10-01', '2027-01-01', (date) => (date.toISOString().startsWith('2026-12-02') ? 400 : usual(date))),
    ];
    const run = await decemberRun(rows, 3);
    expect(run.anomalies.day).toBe('2026-12-02');
    expect(run.anomalies.anomalies).toMatchObject([{ customerId: 'initech', day: '2026-12-02', expected: $(100), actual: $(400) }]);
    // Only the daily query reaches back: to 28 days before the judged Wednesday (4 November, four Wednesdays).
    expect(run.queries.map((q) => `${q.query.granularity} ${q.query.start} ${q.query.endExclusive}`)).toEqual([
      'MONTHLY 2026-12-01 2026-12-03',
      'DAILY 2026-11-04 2026-12-03',
    ]);
    expect(run.snapshot.customers.find((c) => c.customerId === 'initech')?.lookbackDaily).toHaveLength(27);
    // With the month's days alone (two of them), nothing could be judged.
    const monthOnly = detectAnomalies(
      { ...run.snapshot, customers: run.snapshot.customers.map(({ lookbackDaily: _, ...customer }) => customer) },
      demoConfig.anomalies,
    );
    expect(monthOnly.anomalies).toEqual([]);
  });

  it('does not flag weekends, month starts, weekly rhythms or a steady climb on any day of the month', async () => {
    const rows = [
      ...rowsOf('111111111111', '2026-10-01', '2027-01-01', usual),
      ...rowsOf('222222222222', '2026-10-01', '2027-01-01', (date) => (date.getUTCDate() === 1 ? 2500 : date.getUTCDay() === 1 ? 260 : 100)),
      ...rowsOf('333333333333', '2026-10-01', '2027-01-01', (date) => {
        const day = (Date.parse(date.toISOString()) - Date.parse('2026-10-01')) / 86_400_000;
        return 50 * 1.03 ** day * (isWeekend(date) ? 0.6 : 1);
      }),
      ...rowsOf('444444444444', '2026-10-01', '2027-01-01', (date) => (date.getUTCDay() === 6 ? 400 : isWeekend(date) ? 30 : 100)),
    ];
    for (let day = 2; day <= 31; day++) {
      const run = await decemberRun(rows, day);
      expect(run.anomalies.anomalies, `run of 2026-12-${day}`).toEqual([]);
    }
  });

  it("does not compare a customer new this month with last month's days of nothing", async () => {
    const rows = [...rowsOf('111111111111', '2026-10-01', '2027-01-01', usual), ...rowsOf('333333333333', '2026-12-01', '2027-01-01', usual)];
    for (let day = 3; day <= 10; day++) {
      const run = await decemberRun(rows, day);
      expect(run.snapshot.customers.find((c) => c.customerId === 'initech')?.lookbackDaily, `run of 2026-12-${day}`).toBeUndefined();
      expect(run.snapshot.customers.find((c) => c.customerId === 'acme')?.lookbackDaily).toBeDefined();
      expect(run.anomalies.anomalies, `run of 2026-12-${day}`).toEqual([]);
    }
  });

  it('reads last month only when the judged day needs it, and never for the 1st, a closed month or detection off', () => {
    const running = (today: string) => dataWindow(monthPeriod(2026, 12), new Date(`${today}T06:00:00Z`));
    expect(baselineStart(running('2026-12-03'), defaults)).toBe('2026-11-04');
    expect(baselineStart(running('2026-12-29'), defaults)).toBe('2026-11-30');
    expect(baselineStart(running('2026-12-30'), defaults)).toBeUndefined(); // the 1st to the 28th are in the month
    expect(baselineStart(running('2026-12-02'), defaults)).toBeUndefined(); // judges the 1st: nothing is judged
    expect(baselineStart(running('2026-12-01'), defaults)).toBeUndefined();
    expect(baselineStart(running('2026-12-03'), { ...defaults, lookbackDays: 7 })).toBe('2026-11-25');
    expect(baselineStart(running('2026-12-03'), { ...defaults, enabled: false })).toBeUndefined();
    expect(baselineStart(dataWindow(monthPeriod(2026, 11), new Date('2026-12-03T06:00:00Z')), defaults)).toBeUndefined();
  });
});

describe('cost anomalies on the demo data', () => {
  const period = monthPeriod(2026, 11);

  /** The cost check's scan on `day` of November, the demo data running from 1 October so the baseline can reach it. */
  async function demoScan(day: number, plant?: (cube: SampleCostCube) => void) {
    const now = new Date(Date.UTC(2026, 10, day, 6));
    const cube = sampleCostCube({ start: '2026-10-01', endExclusive: now.toISOString().slice(0, 10) });
    plant?.(cube);
    const lookbackStart = baselineStart(dataWindow(period, now), demoConfig.anomalies);
    const snapshot = await collectCosts(cubeCostExplorer(cube).port, demoConfig, {
      period,
      now,
      metric: 'UnblendedCost',
      threshold: $(2000),
      ...(lookbackStart === undefined ? {} : { lookbackStart }),
    });
    return detectAnomalies(snapshot, demoConfig.anomalies);
  }

  it("finds none on any day of the month, last month's days included early in it", async () => {
    for (let day = 2; day <= 30; day++) {
      const scan = await demoScan(day);
      expect(scan.day, `day ${day}`).toBe(`2026-11-${String(day - 1).padStart(2, '0')}`);
      expect(scan.anomalies, `day ${day}`).toEqual([]);
    }
  });

  it("finds a spike planted on the 2nd, from October's days", async () => {
    const scan = await demoScan(3, (cube) => {
      const lastDay = cube.days.length - 1;
      const first = (lastDay * cube.accounts.length + cube.accounts.indexOf('333333333333')) * cube.services.length;
      for (let service = 0; service < cube.services.length; service++) cube.units[first + service]! *= 4;
    });
    expect(scan.day).toBe('2026-11-02');
    expect(scan.anomalies.map((a) => a.customerId)).toEqual(['initech']);
  });

  it('finds the one spike planted: a customer spending 4 times its usual on the last day', async () => {
    // The cube's units are laid out day by day, then account by account, then service by service.
    const scaleAccount = (cube: SampleCostCube, account: string, factor: number) => {
      const lastDay = cube.days.length - 1;
      const first = (lastDay * cube.accounts.length + cube.accounts.indexOf(account)) * cube.services.length;
      for (let service = 0; service < cube.services.length; service++) cube.units[first + service]! *= factor;
    };
    const scan = await demoScan(20, (cube) => {
      scaleAccount(cube, '333333333333', 4); // initech: about 10 a day -> 40
      scaleAccount(cube, '555555555555', 4); // hooli: 1.5 a day -> 6, under the 20 minimum
    });
    expect(scan.day).toBe('2026-11-19');
    expect(scan.anomalies.map((a) => a.customerId)).toEqual(['initech']);
    const [initech] = scan.anomalies;
    expect(initech!.actual).toBeGreaterThan(3 * initech!.expected);
  });

  it('reads its settings from the config with quiet defaults, and names a bad value and the accepted form', () => {
    expect(demoConfig.anomalies).toEqual({ enabled: true, ratio: 2, minimum: $(20), lookbackDays: 28 });
    const base = { customers: [{ id: 'a', name: 'A', match: '111111111111', stripeCustomerId: 'cus_abcd', allowance: 1 }] };
    expect(validateBillingConfig({ ...base, anomalies: { ratio: 3, minimum: 50.5 } }).anomalies).toEqual({
      enabled: true,
      ratio: 3,
      minimum: $(50.5),
      lookbackDays: 28,
    });
    expect(() => validateBillingConfig({ ...base, anomalies: { ratio: 1 } })).toThrow('anomalies.ratio is 1; expected a ratio above 1, such as 2');
    expect(() => validateBillingConfig({ ...base, anomalies: { lookbackDays: 3 } })).toThrow('anomalies.lookbackDays is 3; expected 7 days or more');
    expect(() => validateBillingConfig({ ...base, anomalies: { enabled: 'yes' } })).toThrow('anomalies.enabled is "yes"; expected true or false');
    expect(() => validateBillingConfig({ ...base, anomalies: { ratoi: 2 } })).toThrow('anomalies: unknown field "ratoi"');
  });
});
