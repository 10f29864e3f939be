import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { customerCharge } from '../../src/billing/charge.js';
import { planBilling } from '../../src/billing/plan.js';
import { validateBillingConfig } from '../../src/config/load.js';
import { runCostCheck } from '../../src/costCheck/run.js';
import { formatMoney, fromUnits, scale, toDecimalString } from '../../src/money.js';
import { monthPeriod } from '../../src/period.js';
import { renderSummary } from '../../src/report/summary.js';
import type { SampleCostCube } from '../../scripts/demo/sampleCosts.mjs';
import { cubeCostExplorer, cubeFromRows, type CostRow } from '../support/costPages.js';

const november = monthPeriod(2026, 11);
const SERVICES = ['Amazon Elastic Compute Cloud - Compute', 'Amazon Simple Storage Service', 'AWS Lambda'];
const LEVELS = [25, 50, 80, 99.5, 100, 120];

const customerArbitrary = fc.record({
  allowanceCents: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 200_000 })),
  // Markups of -99.99 % to +300 % with up to two decimals (12.5 and 12.25 included).
  markupHundredths: fc.integer({ min: -9_999, max: 30_000 }),
  alertLevels: fc.subarray(LEVELS, { minLength: 1 }),
  // Micros per day and service: zero, fractions of a cent, and up to $150.
  daily: fc.array(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 150_000_000 })), { minLength: 3, maxLength: 3 }), {
    minLength: 1,
    maxLength: 9,
  }),
});

function costCube(customers: ReadonlyArray<{ account: string; daily: number[][] }>, days: number): SampleCostCube {
  const rows: CostRow[] = customers.flatMap(({ account, daily }) =>
    Array.from({ length: days }, (_, day) =>
      (daily[day] ?? [0, 0, 0]).map((micros, service) => ({
        account,
        service: SERVICES[service] ?? 'AWS Lambda',
        date: `2026-11-${String(day + 1).padStart(2, '0')}`,
        amount: toDecimalString(micros),
      })),
    ).flat(),
  );
  return cubeFromRows(rows, { start: november.start, endExclusive: `2026-11-${String(days + 1).padStart(2, '0')}` });
}

/** The Status cell of a customer's row in the job summary. */
function summaryRow(markdown: string, id: string): string[] {
  const row = markdown.split('\n').find((line) => line.includes(`(\`${id}\`)`));
  if (!row) throw new Error(`no summary row for ${id}`);
  return row.split(' | ').map((cell) => cell.replace(/^\| /, '').replace(/ \|$/, ''));
}

describe('one charge everywhere', () => {
  test.prop([fc.array(customerArbitrary, { minLength: 1, maxLength: 5 })], { numRuns: 150 })(
    'summary status, alerts, over-allowance and the billing plan agree for every customer',
    async (generated) => {
      const days = Math.max(...generated.map((c) => c.daily.length));
      const config = validateBillingConfig({
        currency: 'usd',
        alertLevels: [50, 80, 100],
        forecastAlertLevels: [100],
        customers: generated.map((c, index) => ({
          id: `c${index}`,
          name: `Customer ${index}`,
          match: String(100_000_000_000 + index),
          stripeCustomerId: `cus_Prop${index}000`,
          allowance: c.allowanceCents / 100,
          markupPercent: c.markupHundredths / 100,
          alertLevels: c.alertLevels,
        })),
      });
      const cube = costCube(
        generated.map((c, index) => ({ account: String(100_000_000_000 + index), daily: c.daily })),
        days,
      );
      const now = new Date(Date.UTC(2026, 10, days + 1, 6));
      const result = await runCostCheck({ costExplorer: cubeCostExplorer(cube).port }, config, {
        period: november,
        now,
        metric: 'UnblendedCost',
        threshold: fromUnits(1_000_000),
        dryRun: true,
      });
      const summary = renderSummary(result.snapshot, config, result.alerts, { dryRun: true });
      const plan = planBilling(config.customers, result.snapshot, new Map(), {
        mode: 'scheduled',
        period: november,
        now,
        billing: config.billing,
        windowStart: november.start,
      });

      for (const customer of config.customers) {
        const basis = plan.customers.find((p) => p.customerId === customer.id)?.basis;
        const costs = result.snapshot.customers.find((c) => c.customerId === customer.id);
        if (!basis || !costs) throw new Error(`customer ${customer.id} is missing from the plan or the snapshot`);
        const billed = basis.overage > 0;
        const row = summaryRow(summary, customer.id);
        const status = row.at(-1);
        const alerts = result.alerts.filter((a) => a.scope === customer.id);

        expect(row[3], 'summary charge = billing charge').toBe(`**${formatMoney(basis.costWithMarkup, 'usd')}**`);
        expect(status === '🔴 Over', 'summary status Over = billed').toBe(billed);
        expect(result.overAllowance.includes(customer.id), 'over-allowance = billed').toBe(billed);
        for (const level of customer.alertLevels) {
          const reached = customer.allowance > 0 && basis.costWithMarkup >= scale(customer.allowance, Math.round(level * 100), 10_000);
          expect(
            alerts.some((a) => a.kind === 'actual' && a.level === level),
            `actual alert at ${level}%`,
          ).toBe(reached);
        }
        if (billed && customer.allowance > 0) {
          // Over the allowance means every level up to 100 % was reached, and alerted, on the same figure.
          expect(customer.alertLevels.filter((level) => level <= 100).every((level) => alerts.some((a) => a.kind === 'actual' && a.level === level))).toBe(
            true,
          );
        }
        const forecastCharge = customerCharge(costs.forecast, customer.markupPercent);
        expect(status === '🟠 Forecast over', 'summary Forecast over').toBe(!billed && forecastCharge > customer.allowance);
        if (status === '🟠 Forecast over' && customer.allowance > 0) {
          expect(alerts.some((a) => a.kind === 'forecast' && a.level === 100)).toBe(true);
        }
        expect(alerts.every((a) => a.amount === (a.kind === 'actual' ? basis.costWithMarkup : forecastCharge))).toBe(true);
      }
    },
  );
});
