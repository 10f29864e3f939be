import { describe, expect, it } from 'vitest';
import { runCostCheck } from '../../src/costCheck/run.js';
import { fromUnits } from '../../src/money.js';
import { monthPeriod } from '../../src/period.js';
import { demoConfig } from '../support/snapshots.js';
import { cubeCostExplorer, cubeFromRows, oneDay } from '../support/costPages.js';

const lambdaCost = (account: string, amount: string) =>
  cubeCostExplorer(cubeFromRows([oneDay(account, 'AWS Lambda', amount)], { start: '2026-11-01', endExclusive: '2026-11-02' })).port;

describe('the cost check run', () => {
  const options = {
    period: monthPeriod(2026, 11),
    now: new Date('2026-11-02T06:00:00Z'),
    metric: 'UnblendedCost',
    threshold: fromUnits(10_000),
    dryRun: true,
  } as const;

  it('counts a customer as over its allowance once its cost with markup is (what billing invoices)', async () => {
    // acme: allowance 800, markup 10 %: 750 x 1.1 = 825 is over, although 750 is not.
    const over = await runCostCheck({ costExplorer: lambdaCost('111111111111', '750') }, demoConfig, options);
    expect(over.overAllowance).toEqual(['acme']);
    const under = await runCostCheck({ costExplorer: lambdaCost('111111111111', '727') }, demoConfig, options);
    expect(under.overAllowance).toEqual([]);
    expect(under.thresholdExceeded).toBe(false);
    expect(under.snapshot.costUnit).toBe('USD');
  });
});
