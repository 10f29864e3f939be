import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dispatchAlerts } from '../../../src/alerts/dispatch.js';
import { crossedLevels } from '../../../src/alerts/evaluate.js';
import type { CostSnapshot } from '../../../src/costs/types.js';
import { fromCostReport, toCostReport } from '../../../src/report/costReport.js';
import { renderSummary, STEP_SUMMARY_LIMIT_BYTES } from '../../../src/report/summary.js';
import { demoConfig, demoSnapshot } from '../../support/snapshots.js';

/** Golden files: UPDATE_GOLDEN=1 npx vitest run test/unit/report rewrites them; review the diff. */
function expectGolden(name: string, actual: string) {
  const path = `test/fixtures/golden/${name}`;
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const fixed = (snapshot: CostSnapshot): CostSnapshot => ({ ...snapshot, generatedAt: '2026-11-15T06:00:00.000Z' });

describe('job summary', () => {
  it('renders the month to date with alerts (golden file)', async () => {
    const snapshot = fixed(await demoSnapshot());
    const alerts = await dispatchAlerts(crossedLevels(snapshot, demoConfig), { markers: undefined, publish: undefined, dryRun: false, now: new Date() });
    expectGolden('summary-month-to-date.md', renderSummary(snapshot, demoConfig, alerts, { dryRun: false, reportPath: 'cost-report.json' }));
  });

  it('renders a dry run of a closed month with the dry-run banner and no Estimated banner (golden file)', async () => {
    const snapshot = fixed(await demoSnapshot({ now: new Date('2026-12-02T06:00:00Z'), threshold: 5000 }));
    const final = { ...snapshot, estimated: false };
    const alerts = await dispatchAlerts(crossedLevels(final, demoConfig), { markers: undefined, publish: undefined, dryRun: true, now: new Date() });
    expectGolden('summary-closed-dry-run.md', renderSummary(final, demoConfig, alerts, { dryRun: true }));
  });

  it('stays far below the 1 MiB step-summary limit with 10,000 customers and services', async () => {
    const base = await demoSnapshot();
    const template = base.customers[0]!;
    const services = Array.from({ length: 10_000 }, (_, i) => ({ service: `Service ${i} ${'|'.repeat(50)}`, amount: 10_000 - i }));
    const customers = Array.from({ length: 10_000 }, (_, i) => ({ ...template, customerId: `c${i}`, name: `Customer <${i}> ${'x'.repeat(150)}`, services }));
    const huge = { ...base, customers, total: { ...base.total, services } };
    const config = { ...demoConfig, customers: customers.map((c, i) => ({ ...demoConfig.customers[0]!, id: c.customerId, markupPercent: i % 20 })) };
    const alerts = await dispatchAlerts(crossedLevels(huge, config), {
      markers: undefined,
      publish: undefined,
      dryRun: false,
      now: new Date(),
    });
    const markdown = renderSummary(huge, config, alerts, { dryRun: false, reportPath: 'cost-report.json' });
    expect(Buffer.byteLength(markdown)).toBeLessThan(STEP_SUMMARY_LIMIT_BYTES / 10);
    expect(markdown).toContain('…and 9950 more customers');
    expect(markdown).toContain('| …and 9990 more |');
    expect(markdown).not.toContain('<0>');
  });
});

describe('JSON cost report', () => {
  it('keeps every amount exact through a write and a read', async () => {
    const snapshot = await demoSnapshot();
    const report = JSON.parse(JSON.stringify(toCostReport(snapshot, demoConfig)));
    expect(report.total.cost).toMatch(/^\d+\.\d{6}$/);
    expect(fromCostReport(report)).toEqual(snapshot);
  });

  it("gives each customer's cost and charge side by side, Used and status on the charge (acme on 2026-11-21)", async () => {
    const report = toCostReport(await demoSnapshot({ now: new Date('2026-11-21T06:00:00Z'), threshold: 2000 }), demoConfig);
    expect(report.customers.find((c) => c.customerId === 'acme')).toMatchObject({
      cost: '764.355828',
      markupPercent: 10,
      charge: '840.791411',
      allowance: '800.000000',
      forecastCharge: '1272.204430',
      usedPercent: 105.1,
      status: 'over',
    });
  });

  it('refuses a report of another schema version', () => {
    expect(() => fromCostReport({ schemaVersion: 2 } as never, 'r.json')).toThrow('r.json has schemaVersion 2; this version reads 1');
  });
});
