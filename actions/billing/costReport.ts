import { readFile } from 'node:fs/promises';
import type { CostSnapshot } from '../../src/costs/types.js';
import { ConfigError } from '../../src/errors.js';
import { parseAmount, type Micros } from '../../src/money.js';

/**
 * Stand-in reader of the cost check's JSON report (money as decimal strings) until the shared
 * src/report/costReport.ts readCostReport replaces it; see loadCostsFromReportOrQuery in main.ts.
 */
export async function readCostReportFile(path: string): Promise<CostSnapshot> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ConfigError([`cost-report: "${path}" does not exist or cannot be read; run the cost-check action first in the same job and pass its report-path output`]);
  }
  const report = JSON.parse(text) as Record<string, unknown>;
  const money = (value: unknown, field: string): Micros => {
    if (typeof value !== 'string') throw new ConfigError([`cost-report ${field} is ${JSON.stringify(value)}; expected a decimal string such as "12.34"`]);
    return parseAmount(value);
  };
  const lines = (value: unknown, field: string) =>
    ((value ?? []) as Array<Record<string, unknown>>).map((line, index) => ({ ...line, amount: money(line.amount, `${field}[${index}].amount`) }));
  const daily = (value: unknown, field: string) => ((value ?? []) as unknown[]).map((amount, index) => money(amount, `${field}[${index}]`));
  const customers = (report.customers ?? []) as Array<Record<string, unknown>>;
  const total = (report.total ?? {}) as Record<string, unknown>;
  const unmapped = (report.unmapped ?? { cost: '0', keys: [] }) as Record<string, unknown>;
  return {
    ...(report as unknown as CostSnapshot),
    customers: customers.map((customer, index) => ({
      ...(customer as unknown as CostSnapshot['customers'][number]),
      cost: money(customer.cost, `customers[${index}].cost`),
      allowance: money(customer.allowance, `customers[${index}].allowance`),
      forecast: money(customer.forecast, `customers[${index}].forecast`),
      services: lines(customer.services, `customers[${index}].services`) as unknown as CostSnapshot['customers'][number]['services'],
      daily: daily(customer.daily, `customers[${index}].daily`),
    })),
    unmapped: { cost: money(unmapped.cost, 'unmapped.cost'), keys: lines(unmapped.keys, 'unmapped.keys') as unknown as CostSnapshot['unmapped']['keys'] },
    total: {
      cost: money(total.cost, 'total.cost'),
      forecast: money(total.forecast, 'total.forecast'),
      ...(total.awsForecast !== undefined ? { awsForecast: money(total.awsForecast, 'total.awsForecast') } : {}),
      threshold: money(total.threshold, 'total.threshold'),
      services: lines(total.services, 'total.services') as unknown as CostSnapshot['total']['services'],
      daily: daily(total.daily, 'total.daily'),
    },
  };
}
