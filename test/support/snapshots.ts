import { readFileSync } from 'node:fs';
import { parseBillingConfig, type BillingConfig } from '../../src/config/load.js';
import { collectCosts } from '../../src/costs/collect.js';
import type { CostSnapshot } from '../../src/costs/types.js';
import { fromUnits } from '../../src/money.js';
import { monthPeriod } from '../../src/period.js';
import { sampleCostCube } from '../../scripts/demo/sampleCosts.mjs';
import { cubeCostExplorer } from './costPages.js';

export const demoConfig: BillingConfig = parseBillingConfig(readFileSync('scripts/demo/billing.config.yaml', 'utf8'));

/** The demo's customers on 2026-11-15 (14 days of sample data): acme past half its allowance and forecast over it. */
export async function demoSnapshot(overrides: { now?: Date; threshold?: number } = {}): Promise<CostSnapshot> {
  const now = overrides.now ?? new Date('2026-11-15T06:00:00Z');
  const cube = sampleCostCube({ start: '2026-11-01', endExclusive: now.toISOString().slice(0, 10) });
  return collectCosts(cubeCostExplorer(cube).port, demoConfig, {
    period: monthPeriod(2026, 11),
    now,
    metric: 'UnblendedCost',
    threshold: fromUnits(overrides.threshold ?? 1500),
  });
}
