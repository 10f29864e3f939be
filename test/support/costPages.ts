import { toInput } from '../../src/aws/costExplorer.js';
import type { Allocation } from '../../src/config/load.js';
import { buildCostQueries, type CostExplorerPort, type CostPage, type CostQuery } from '../../src/costs/query.js';
import { allCostAndUsagePages, costAndUsagePage, type SampleCostCube, type SampleCostPage } from '../../scripts/demo/sampleCosts.mjs';

/** Maps a Cost Explorer wire response to the port's page: what the real adapter does after the SDK. */
export function toCostPage(page: SampleCostPage, grouped = true): CostPage {
  return {
    nextPageToken: page.NextPageToken,
    periods: page.ResultsByTime.map((period) => ({
      start: period.TimePeriod.Start,
      estimated: period.Estimated,
      groups: grouped ? period.Groups.map((g) => amountOf(g.Keys, g.Metrics)) : Object.keys(period.Total).length > 0 ? [amountOf([], period.Total)] : [],
    })),
  };
}

function amountOf(keys: string[], metrics: Record<string, { Amount: string; Unit: string }>) {
  const metric = Object.values(metrics)[0];
  return { keys, amount: metric?.Amount ?? '0', unit: metric?.Unit ?? '' };
}

/** One row of cost: an account's spend on a service on a day (account '' for rows without one). */
export interface CostRow {
  readonly account: string;
  readonly service: string;
  readonly date: string;
  readonly amount: string;
}

/** The cube Cost Explorer would aggregate these rows from (amounts with up to 10 decimals, summed exactly). */
export function cubeFromRows(rows: readonly CostRow[], window: { start: string; endExclusive: string }, estimated = true): SampleCostCube {
  const accounts = [...new Set(rows.map((r) => r.account))];
  const services = [...new Set(rows.map((r) => r.service))];
  const days: string[] = [];
  for (let t = Date.parse(window.start); t < Date.parse(window.endExclusive); t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
  const units = new Float64Array(days.length * accounts.length * services.length);
  for (const row of rows) {
    const day = days.indexOf(row.date);
    if (day === -1) throw new Error(`row date ${row.date} is outside the window`);
    units[(day * accounts.length + accounts.indexOf(row.account)) * services.length + services.indexOf(row.service)]! += toUnits(row.amount);
  }
  return { ...window, days, accounts, services, estimated, units };
}

function toUnits(amount: string): number {
  const [whole = '0', fraction = ''] = amount.replace('-', '').split('.');
  const units = Number(BigInt(whole + fraction.padEnd(10, '0').slice(0, 10)));
  return amount.startsWith('-') ? -units : units;
}

/** One row on 1 November 2026, in USD. */
export function oneDay(account: string, service: string, amount: string): CostRow {
  return { account, service, date: '2026-11-01', amount };
}

/**
 * An in-memory Cost Explorer for unit tests: answers each query from the cube as the real service would (the
 * adapter's own request mapping, pages of `groupsPerPage` groups) and records each query.
 */
export function cubeCostExplorer(cube: SampleCostCube, options: { groupsPerPage?: number; forecast?: string } = {}) {
  const queries: Array<{ query: CostQuery; token: string | undefined }> = [];
  const port: CostExplorerPort = {
    async getCostAndUsage(query, token) {
      queries.push({ query, token });
      const request = toInput(query, token);
      const page = costAndUsagePage(cube, request, options.groupsPerPage);
      return toCostPage(page, query.groupBy.length > 0);
    },
    ...(options.forecast === undefined ? {} : { getCostForecast: async () => options.forecast! }),
  };
  return { port, queries };
}

/**
 * Every page the cost check asks for, in the order it asks (services over the window, then days, from `dailyStart`
 * when the anomaly baseline reaches before the window), for seeding a Cost Explorer emulator that answers each new
 * request with the next result.
 */
export function costCheckPages(
  cube: SampleCostCube,
  allocation: Allocation,
  window: { start: string; endExclusive: string },
  groupsPerPage?: number,
  dailyStart?: string,
) {
  const queries = buildCostQueries(allocation, window, 'UnblendedCost', [], dailyStart);
  return [queries.byService, queries.daily].flatMap((query) => allCostAndUsagePages(cube, toInput(query), groupsPerPage));
}
