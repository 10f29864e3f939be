import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { parseBillingConfig } from '../../../src/config/load.js';
import { collectCosts } from '../../../src/costs/collect.js';
import { runRateForecast } from '../../../src/costs/forecast.js';
import { buildCostQuery, groupValue } from '../../../src/costs/query.js';
import { fromUnits, parseAmount, sum } from '../../../src/money.js';
import { monthPeriod } from '../../../src/period.js';
import { sampleCostPages, type SampleCostPage } from '../../../scripts/demo/sampleCosts.mjs';
import { oneDayPage, pagedCostExplorer } from '../../support/costPages.js';
import { readFileSync } from 'node:fs';

const demoConfig = parseBillingConfig(readFileSync('scripts/demo/billing.config.yaml', 'utf8'));
const period = monthPeriod(2026, 11);
const now = new Date('2026-11-15T06:00:00Z');
const options = { period, now, metric: 'UnblendedCost', threshold: fromUnits(2000) } as const;
const pages = sampleCostPages({ start: '2026-11-01', endExclusive: '2026-11-15', daysPerPage: 5 });

describe('collecting costs', () => {
  it('makes one query for all customers and follows every page', async () => {
    const { port, queries } = pagedCostExplorer(pages);
    const snapshot = await collectCosts(port, demoConfig, options);
    expect(queries.map((q) => q.token)).toEqual([undefined, 'page-1', 'page-2']);
    expect(snapshot.costExplorerRequests).toBe(3);
    expect(queries[0]?.query).toEqual({
      start: '2026-11-01',
      endExclusive: '2026-11-15',
      metric: 'UnblendedCost',
      groupBy: [
        { type: 'DIMENSION', key: 'LINKED_ACCOUNT' },
        { type: 'DIMENSION', key: 'SERVICE' },
      ],
      excludeRecordTypes: ['Credit', 'Refund'],
    });
  });

  it('does not make more requests for more customers', async () => {
    const many = parseBillingConfig(
      `customers:\n${Array.from({ length: 500 }, (_, i) => `  - {id: c${i}, name: C${i}, match: "${String(100000000000 + i)}", stripeCustomerId: cus_x${i}xxx, allowance: 10}`).join('\n')}`,
    );
    const { port, queries } = pagedCostExplorer(pages);
    await collectCosts(port, many, options);
    expect(queries).toHaveLength(3);
  });

  it('attributes every cent: customers plus unmapped make the total', async () => {
    const { port } = pagedCostExplorer(pages);
    const snapshot = await collectCosts(port, demoConfig, options);
    const wire = pages.flatMap((p) => p.ResultsByTime.flatMap((d) => d.Groups.map((g) => parseAmount(g.Metrics.UnblendedCost!.Amount))));
    expect(snapshot.total.cost).toBe(sum(wire));
    expect(sum(snapshot.customers.map((c) => c.cost)) + snapshot.unmapped.cost).toBe(snapshot.total.cost);
    expect(snapshot.unmapped.keys.map((u) => u.key)).toEqual(['999999999999']);
    expect(snapshot.estimated).toBe(true);
    const acme = snapshot.customers.find((c) => c.customerId === 'acme')!;
    expect(acme.daily).toHaveLength(14);
    expect(sum(acme.daily)).toBe(acme.cost);
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
    const page: SampleCostPage = {
      GroupDefinitions: [],
      DimensionValueAttributes: [],
      ResultsByTime: Array.from({ length: 14 }, (_, day) => ({
        TimePeriod: { Start: `2026-11-${String(day + 1).padStart(2, '0')}`, End: '' },
        Total: {},
        Estimated: false,
        Groups: rows
          .filter((r) => r[2] === day + 1)
          .map(([key, service, , cents]) => ({ Keys: [key, service], Metrics: { UnblendedCost: { Amount: (cents / 100).toFixed(2), Unit: 'USD' } } })),
      })),
    };
    const { port } = pagedCostExplorer([page]);
    const snapshot = await collectCosts(port, demoConfig, options);
    const expected = sum(rows.map((r) => parseAmount((r[3] / 100).toFixed(2))));
    expect(snapshot.total.cost).toBe(expected);
    expect(sum(snapshot.customers.map((c) => c.cost)) + snapshot.unmapped.cost).toBe(expected);
    expect(sum(snapshot.total.daily)).toBe(expected);
  });

  it('gives everything to the one customer with allocation NONE and groups by service only', async () => {
    const single = parseBillingConfig('allocation: NONE\ncustomers:\n  - {id: solo, name: Solo, stripeCustomerId: cus_solo1, allowance: 100}');
    const { port, queries } = pagedCostExplorer([oneDayPage(['AWS Lambda'], '3.5')]);
    const snapshot = await collectCosts(port, single, options);
    expect(queries[0]?.query.groupBy).toEqual([{ type: 'DIMENSION', key: 'SERVICE' }]);
    expect(snapshot.customers[0]).toMatchObject({ customerId: 'solo', cost: 3_500_000, services: [{ service: 'AWS Lambda', amount: 3_500_000 }] });
    expect(snapshot.unmapped.cost).toBe(0);
  });

  it('reads tag and cost category group keys ("key$value")', () => {
    expect(groupValue({ kind: 'TAG', key: 'customer' }, 'customer$acme')).toBe('acme');
    expect(groupValue({ kind: 'TAG', key: 'customer' }, 'customer$')).toBe('');
    expect(groupValue({ kind: 'COST_CATEGORY', name: 'Customers' }, 'Customers$Acme Corp')).toBe('Acme Corp');
    expect(buildCostQuery({ kind: 'TAG', key: 'customer' }, { start: 'a', endExclusive: 'b' }, 'AmortizedCost', []).groupBy[0]).toEqual({
      type: 'TAG',
      key: 'customer',
    });
  });

  it('makes no request on the 1st, when the month has no complete day yet', async () => {
    const { port, queries } = pagedCostExplorer(pages);
    const snapshot = await collectCosts(port, demoConfig, { ...options, now: new Date('2026-11-01T06:00:00Z') });
    expect(queries).toHaveLength(0);
    expect(snapshot.total.cost).toBe(0);
  });

  it('adds the AWS forecast for the total with exactly one more request, only while the month runs', async () => {
    const { port } = pagedCostExplorer(pages, '1000.25');
    const running = await collectCosts(port, demoConfig, { ...options, awsForecast: true });
    expect(running.costExplorerRequests).toBe(4);
    expect(running.total.awsForecast).toBe(running.total.cost + 1_000_250_000);
    const closed = await collectCosts(
      pagedCostExplorer(sampleCostPages({ start: '2026-10-01', endExclusive: '2026-11-01', daysPerPage: 31 }), '5').port,
      demoConfig,
      { ...options, period: monthPeriod(2026, 10), awsForecast: true },
    );
    expect(closed.costExplorerRequests).toBe(1);
    expect(closed.total.awsForecast).toBeUndefined();
    expect(closed.total.forecast).toBe(closed.total.cost);
  });
});

describe('run-rate forecast', () => {
  it('projects the last seven days over the rest of the month', () => {
    const daily = [...Array.from({ length: 7 }, () => 1_000_000), ...Array.from({ length: 7 }, () => 3_000_000)];
    expect(runRateForecast(daily, 30)).toBe(28_000_000 + 16 * 3_000_000);
  });

  it('is the cost itself once the month is over, and zero with no data', () => {
    expect(runRateForecast([5, 5, 5], 3)).toBe(15);
    expect(runRateForecast([], 30)).toBe(0);
  });
});
