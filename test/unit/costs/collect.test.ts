import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { parseBillingConfig } from '../../../src/config/load.js';
import { collectCosts } from '../../../src/costs/collect.js';
import { runRateForecast } from '../../../src/costs/forecast.js';
import { buildCostQueries, groupValue } from '../../../src/costs/query.js';
import { fromUnits, parseAmount, sum } from '../../../src/money.js';
import { monthPeriod } from '../../../src/period.js';
import { allCostAndUsagePages, sampleCostCube } from '../../../scripts/demo/sampleCosts.mjs';
import { toInput } from '../../../src/aws/costExplorer.js';
import { cubeCostExplorer, cubeFromRows, oneDay } from '../../support/costPages.js';
import { readFileSync } from 'node:fs';
import { crossedLevels } from '../../../src/alerts/evaluate.js';
import { customerCharges } from '../../../src/billing/charge.js';
import { toCostReport } from '../../../src/report/costReport.js';

const demoConfig = parseBillingConfig(readFileSync('scripts/demo/billing.config.yaml', 'utf8'));
const period = monthPeriod(2026, 11);
const now = new Date('2026-11-15T06:00:00Z');
const options = { period, now, metric: 'UnblendedCost', threshold: fromUnits(2000) } as const;
const cube = sampleCostCube({ start: '2026-11-01', endExclusive: '2026-11-15' });
// 6 accounts x 20 services = 120 groups by service (3 pages of 50), 6 x 14 = 84 groups by day (2 pages).
const paging = { groupsPerPage: 50 };

describe('collecting costs', () => {
  it('makes two queries for all customers (services over the window, then days) and follows every page', async () => {
    const { port, queries } = cubeCostExplorer(cube, paging);
    const snapshot = await collectCosts(port, demoConfig, options);
    expect(queries.map((q) => `${q.query.granularity} ${q.token ?? 'first'}`)).toEqual([
      'MONTHLY first',
      'MONTHLY page-1',
      'MONTHLY page-2',
      'DAILY first',
      'DAILY page-1',
    ]);
    expect(snapshot.costExplorerRequests).toBe(5);
    const common = { start: '2026-11-01', endExclusive: '2026-11-15', metric: 'UnblendedCost', excludeRecordTypes: ['Credit', 'Refund'] };
    expect(queries[0]?.query).toEqual({
      ...common,
      granularity: 'MONTHLY',
      groupBy: [
        { type: 'DIMENSION', key: 'LINKED_ACCOUNT' },
        { type: 'DIMENSION', key: 'SERVICE' },
      ],
    });
    expect(queries[3]?.query).toEqual({ ...common, granularity: 'DAILY', groupBy: [{ type: 'DIMENSION', key: 'LINKED_ACCOUNT' }] });
  });

  it('does not make more requests for more customers', async () => {
    const many = parseBillingConfig(
      `customers:\n${Array.from({ length: 500 }, (_, i) => `  - {id: c${i}, name: C${i}, match: "${String(100000000000 + i)}", stripeCustomerId: cus_x${i}xxx, allowance: 10}`).join('\n')}`,
    );
    const { port, queries } = cubeCostExplorer(cube, paging);
    await collectCosts(port, many, options);
    expect(queries).toHaveLength(5);
  });

  it('attributes every cent: customers plus unmapped make the total, each exact to the micro-unit', async () => {
    const { port } = cubeCostExplorer(cube, paging);
    const snapshot = await collectCosts(port, demoConfig, options);
    const byService = allCostAndUsagePages(cube, toInput(buildCostQueries(demoConfig.allocation, cube, 'UnblendedCost', []).byService), 50);
    const wire = byService.flatMap((p) => p.ResultsByTime.flatMap((d) => d.Groups.map((g) => parseAmount(g.Metrics.UnblendedCost!.Amount))));
    expect(snapshot.total.cost).toBe(sum(wire));
    expect(sum(snapshot.customers.map((c) => c.cost)) + snapshot.unmapped.cost).toBe(snapshot.total.cost);
    expect(snapshot.unmapped.keys.map((u) => u.key)).toEqual(['999999999999']);
    expect(snapshot.estimated).toBe(true);
    const acme = snapshot.customers.find((c) => c.customerId === 'acme')!;
    expect(acme.daily).toHaveLength(14);
    // The daily totals are another query, each rounded once: they agree with the cost to within a micro per group.
    expect(Math.abs(sum(acme.daily) - acme.cost)).toBeLessThanOrEqual(20);
    expect(sum(acme.services.map((s) => s.amount))).toBe(acme.cost);
    expect(acme.services[0]?.service).toBe('Amazon Elastic Compute Cloud - Compute');
  });

  test.prop([
    fc.array(
      fc.tuple(
        fc.constantFrom('111111111111', '222222222222', '777777777777', ''),
        fc.constantFrom('S3', 'EC2'),
        fc.integer({ min: 1, max: 14 }),
        fc.nat(10_000_000),
      ),
      { maxLength: 60 },
    ),
  ])('sums any rows into customers and unmapped without losing or inventing money', async (rows) => {
    const window = { start: '2026-11-01', endExclusive: '2026-11-15' };
    const costRows = rows.map(([account, service, day, cents]) => ({
      account,
      service,
      date: `2026-11-${String(day).padStart(2, '0')}`,
      amount: (cents / 100).toFixed(2),
    }));
    const { port } = cubeCostExplorer(cubeFromRows(costRows, window, false), { groupsPerPage: 7 });
    const snapshot = await collectCosts(port, demoConfig, options);
    const expected = sum(costRows.map((r) => parseAmount(r.amount)));
    expect(snapshot.total.cost).toBe(expected);
    expect(sum(snapshot.customers.map((c) => c.cost)) + snapshot.unmapped.cost).toBe(expected);
    expect(sum(snapshot.total.daily)).toBe(expected);
  });

  it('gives everything to the one customer with allocation NONE and groups by service only', async () => {
    const single = parseBillingConfig('allocation: NONE\ncustomers:\n  - {id: solo, name: Solo, stripeCustomerId: cus_solo1, allowance: 100}');
    const { port, queries } = cubeCostExplorer(cubeFromRows([oneDay('', 'AWS Lambda', '3.5')], { start: '2026-11-01', endExclusive: '2026-11-15' }));
    const snapshot = await collectCosts(port, single, options);
    expect(queries.map((q) => q.query.groupBy)).toEqual([[{ type: 'DIMENSION', key: 'SERVICE' }], []]);
    expect(snapshot.customers[0]).toMatchObject({ customerId: 'solo', cost: 3_500_000, services: [{ service: 'AWS Lambda', amount: 3_500_000 }] });
    expect(snapshot.customers[0]?.daily.slice(0, 2)).toEqual([3_500_000, 0]);
    expect(snapshot.unmapped.cost).toBe(0);
  });

  it('reads tag and cost category group keys ("key$value")', () => {
    expect(groupValue({ kind: 'TAG', key: 'customer' }, 'customer$acme')).toBe('acme');
    expect(groupValue({ kind: 'TAG', key: 'customer' }, 'customer$')).toBe('');
    expect(groupValue({ kind: 'COST_CATEGORY', name: 'Customers' }, 'Customers$Acme Corp')).toBe('Acme Corp');
    expect(buildCostQueries({ kind: 'TAG', key: 'customer' }, { start: 'a', endExclusive: 'b' }, 'AmortizedCost', []).daily.groupBy[0]).toEqual({
      type: 'TAG',
      key: 'customer',
    });
  });

  it('reads the lookback days in the same daily query and changes no billed or reported figure', async () => {
    const twoMonths = sampleCostCube({ start: '2026-10-01', endExclusive: '2026-11-15' });
    const plain = cubeCostExplorer(twoMonths, paging);
    const withLookback = cubeCostExplorer(twoMonths, paging);
    const without = await collectCosts(plain.port, demoConfig, options);
    const snapshot = await collectCosts(withLookback.port, demoConfig, { ...options, lookbackStart: '2026-10-18' });

    // Same two queries; only the daily one starts earlier, so it has more pages (6 x 28 days = 168 groups: 4 pages).
    expect(withLookback.queries.map((q) => `${q.query.granularity} ${q.query.start} ${q.token ?? 'first'}`)).toEqual([
      'MONTHLY 2026-11-01 first',
      'MONTHLY 2026-11-01 page-1',
      'MONTHLY 2026-11-01 page-2',
      'DAILY 2026-10-18 first',
      'DAILY 2026-10-18 page-1',
      'DAILY 2026-10-18 page-2',
      'DAILY 2026-10-18 page-3',
    ]);
    expect(plain.queries.filter((q) => q.query.granularity === 'DAILY').map((q) => q.query.start)).toEqual(['2026-11-01', '2026-11-01']);
    expect(snapshot.costExplorerRequests).toBe(without.costExplorerRequests + 2);

    // Every figure of the period is the same: costs, totals, forecasts, daily arrays, charges, alerts, the JSON report.
    const withoutLookback = { ...snapshot, customers: snapshot.customers.map(({ lookbackDaily: _, ...customer }) => customer) };
    expect({ ...withoutLookback, costExplorerRequests: 0 }).toEqual({ ...without, costExplorerRequests: 0 });
    expect(customerCharges(snapshot, demoConfig.customers)).toEqual(customerCharges(without, demoConfig.customers));
    expect(crossedLevels(snapshot, demoConfig)).toEqual(crossedLevels(without, demoConfig));
    expect({ ...toCostReport(snapshot, demoConfig), costExplorerRequests: 0 }).toEqual({ ...toCostReport(without, demoConfig), costExplorerRequests: 0 });
    expect(JSON.stringify(toCostReport(snapshot, demoConfig))).not.toContain('lookback');

    // The lookback days are October's 18th to 31st, as a closed October reads them.
    const october = await collectCosts(cubeCostExplorer(twoMonths).port, demoConfig, { ...options, period: monthPeriod(2026, 10) });
    for (const customer of snapshot.customers) {
      const octoberDaily = october.customers.find((c) => c.customerId === customer.customerId)!.daily;
      expect(customer.lookbackDaily, customer.customerId).toEqual(octoberDaily.slice(17));
    }
  });

  it('reads no lookback day for a closed month, nor without a lookback start before the window', async () => {
    const closed = cubeCostExplorer(cube);
    const snapshot = await collectCosts(closed.port, demoConfig, { ...options, period: monthPeriod(2026, 10), lookbackStart: '2026-09-20' });
    expect(closed.queries.map((q) => q.query.start)).toEqual(['2026-10-01', '2026-10-01']);
    expect(snapshot.customers.every((c) => c.lookbackDaily === undefined)).toBe(true);
    const late = cubeCostExplorer(cube);
    await collectCosts(late.port, demoConfig, { ...options, lookbackStart: '2026-11-03' });
    expect(late.queries.map((q) => q.query.start)).toEqual(['2026-11-01', '2026-11-01']);
  });

  it('makes no request on the 1st, when the month has no complete day yet', async () => {
    const { port, queries } = cubeCostExplorer(cube);
    const snapshot = await collectCosts(port, demoConfig, { ...options, now: new Date('2026-11-01T06:00:00Z') });
    expect(queries).toHaveLength(0);
    expect(snapshot.total.cost).toBe(0);
  });

  it('adds the AWS forecast for the total with exactly one more request, only while the month runs', async () => {
    const { port } = cubeCostExplorer(cube, { forecast: '1000.25' });
    const running = await collectCosts(port, demoConfig, { ...options, awsForecast: true });
    expect(running.costExplorerRequests).toBe(3);
    expect(running.total.awsForecast).toBe(running.total.cost + 1_000_250_000);
    const closed = await collectCosts(
      cubeCostExplorer(sampleCostCube({ start: '2026-10-01', endExclusive: '2026-11-01' }), { forecast: '5' }).port,
      demoConfig,
      { ...options, period: monthPeriod(2026, 10), awsForecast: true },
    );
    expect(closed.costExplorerRequests).toBe(2);
    expect(closed.total.awsForecast).toBeUndefined();
    expect(closed.total.forecast).toBe(closed.total.cost);
  });
});

describe('run-rate forecast', () => {
  it('projects the last seven days over the rest of the month', () => {
    const daily = [...Array.from({ length: 7 }, () => 1_000_000), ...Array.from({ length: 7 }, () => 3_000_000)];
    expect(runRateForecast(28_000_000, daily, 30)).toBe(28_000_000 + 16 * 3_000_000);
  });

  it('is the cost itself once the month is over, and zero with no data', () => {
    expect(runRateForecast(15, [5, 5, 5], 3)).toBe(15);
    expect(runRateForecast(0, [], 30)).toBe(0);
  });
});
