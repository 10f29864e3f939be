import type { BillingConfig, Customer } from '../config/load.js';
import { parseAmount, type Micros } from '../money.js';
import { dataWindow, daysBetween, isoDate, type BillingPeriod } from '../period.js';
import { CostAccumulator, type KeyCosts } from './accumulate.js';
import { runRateForecast } from './forecast.js';
import { buildCostQueries, groupValue, type CostExplorerPort, type CostMetric, type CostPage, type CostQuery } from './query.js';
import type { CostSnapshot, CustomerCosts } from './types.js';

export interface CollectOptions {
  readonly period: BillingPeriod;
  readonly now: Date;
  readonly metric: CostMetric;
  /** The total monthly budget the whole bill is compared with. */
  readonly threshold: Micros;
  /** Also ask AWS GetCostForecast for the total (one more request, $0.01). */
  readonly awsForecast?: boolean;
  /**
   * The first day the anomaly detector's baseline needs ("2026-10-06"). When it is before the window of a running
   * month, the daily query starts there (more pages of the same query, no other request) and each customer gets
   * those days as `lookbackDaily`, apart from every cost and figure of the period.
   */
  readonly lookbackStart?: string;
}

/**
 * Reads a period's costs for every customer with two paginated queries (per customer: the window's services, and
 * its days) and attributes them.
 */
export async function collectCosts(costExplorer: CostExplorerPort, config: BillingConfig, options: CollectOptions): Promise<CostSnapshot> {
  const window = dataWindow(options.period, options.now);
  const lookbackStart = !window.complete && options.lookbackStart !== undefined && options.lookbackStart < window.start ? options.lookbackStart : window.start;
  const costs = new CostAccumulator(window, lookbackStart);
  let requests = 0;
  if (window.start < window.endExclusive) {
    const queries = buildCostQueries(config.allocation, window, options.metric, config.excludeRecordTypes, lookbackStart);
    const keyOf = (keys: readonly string[]) => (config.allocation.kind === 'NONE' ? '' : groupValue(config.allocation, keys[0] ?? ''));
    const serviceIndex = config.allocation.kind === 'NONE' ? 0 : 1;
    requests += await readPages(costExplorer, queries.byService, costs, (group) =>
      costs.addService(keyOf(group.keys), group.keys[serviceIndex] ?? 'Unknown', group.amount, group.unit),
    );
    requests += await readPages(costExplorer, queries.daily, costs, (group, day) => costs.addDay(keyOf(group.keys), day, group.amount, group.unit));
  }

  const snapshot = attribute(costs, config, options, window);
  if (!options.awsForecast || window.complete || !costExplorer.getCostForecast) return { ...snapshot, costExplorerRequests: requests };
  const rest = await costExplorer.getCostForecast({ start: isoDate(options.now), endExclusive: options.period.endExclusive, metric: options.metric });
  return {
    ...snapshot,
    total: { ...snapshot.total, awsForecast: snapshot.total.cost + parseAmount(rest) },
    costExplorerRequests: requests + 1,
  };
}

type PageGroup = CostPage['periods'][number]['groups'][number];

/** Follows NextPageToken through one query, handing each group over as it comes; returns the requests made. */
async function readPages(
  costExplorer: CostExplorerPort,
  query: CostQuery,
  costs: CostAccumulator,
  add: (group: PageGroup, periodStart: string) => void,
): Promise<number> {
  let requests = 0;
  let token: string | undefined;
  do {
    const page = await costExplorer.getCostAndUsage(query, token);
    requests++;
    for (const period of page.periods) {
      if (period.estimated) costs.markEstimated(period.start);
      for (const group of period.groups) add(group, period.start);
    }
    token = page.nextPageToken || undefined;
  } while (token);
  return requests;
}

function attribute(
  costs: CostAccumulator,
  config: BillingConfig,
  options: CollectOptions,
  window: CostSnapshot['window'],
): Omit<CostSnapshot, 'costExplorerRequests'> {
  const dayCount = daysBetween(window.start, window.endExclusive);
  const claimed = new Set<string>();
  const customers = config.customers.map((customer) => {
    const keys = customer.match === undefined ? [...costs.byKey.keys()] : [customer.match];
    keys.forEach((key) => claimed.add(key));
    const summary = customerCosts(
      customer,
      keys.map((key) => costs.byKey.get(key)).filter((c): c is KeyCosts => c !== undefined),
      dayCount,
      options.period.daysInMonth,
    );
    const lookbackDaily = lookbackOf(costs, customer.match === undefined ? [...costs.lookbackByKey.keys()] : keys);
    return lookbackDaily ? { ...summary, lookbackDaily } : summary;
  });

  const all = merge([...costs.byKey.values()], dayCount);
  const unmappedKeys = [...costs.byKey.entries()]
    .filter(([key, c]) => !claimed.has(key) && c.cost !== 0)
    .map(([key, c]) => ({ key, amount: c.cost }))
    .sort(byAmountThenName((u) => u.key));
  return {
    period: options.period.id,
    window,
    metric: options.metric,
    currency: config.currency,
    ...(costs.units.size > 0 ? { costUnit: [...costs.units].sort().join('+') } : {}),
    estimated: costs.estimated,
    generatedAt: options.now.toISOString(),
    customers,
    unmapped: { cost: unmappedKeys.reduce((total, u) => total + u.amount, 0), keys: unmappedKeys },
    total: {
      cost: all.cost,
      forecast: runRateForecast(all.cost, all.daily, options.period.daysInMonth),
      threshold: options.threshold,
      services: sortedServices(all.services),
      daily: all.daily,
    },
  };
}

function customerCosts(customer: Customer, parts: KeyCosts[], days: number, daysInMonth: number): CustomerCosts {
  const merged = merge(parts, days);
  return {
    customerId: customer.id,
    name: customer.name,
    currency: customer.currency,
    cost: merged.cost,
    allowance: customer.allowance,
    forecast: runRateForecast(merged.cost, merged.daily, daysInMonth),
    services: sortedServices(merged.services),
    daily: merged.daily,
  };
}

/**
 * The customer's keys' lookback days summed, one entry per lookback day (zero where nothing was spent); undefined
 * when none of its keys cost anything then, so that a customer new this month is not compared with days of zero.
 */
function lookbackOf(costs: CostAccumulator, keys: readonly string[]): Micros[] | undefined {
  const parts = keys.map((key) => costs.lookbackByKey.get(key)).filter((days): days is Micros[] => days !== undefined);
  if (parts.length === 0) return undefined;
  const lookback = new Array<number>(costs.lookbackDays).fill(0);
  for (const part of parts) part.forEach((amount, day) => (lookback[day] = (lookback[day] ?? 0) + amount));
  return lookback;
}

function merge(parts: readonly KeyCosts[], days: number): KeyCosts {
  if (parts.length === 1 && parts[0]) return parts[0];
  const merged: KeyCosts = { cost: 0, services: new Map(), daily: new Array<number>(days).fill(0) };
  for (const part of parts) {
    merged.cost += part.cost;
    for (const [service, amount] of part.services) merged.services.set(service, (merged.services.get(service) ?? 0) + amount);
    part.daily.forEach((amount, day) => (merged.daily[day] = (merged.daily[day] ?? 0) + amount));
  }
  return merged;
}

function sortedServices(services: ReadonlyMap<string, Micros>) {
  return [...services].map(([service, amount]) => ({ service, amount })).sort(byAmountThenName((s) => s.service));
}

function byAmountThenName<T extends { amount: Micros }>(name: (item: T) => string) {
  return (a: T, b: T) => b.amount - a.amount || name(a).localeCompare(name(b));
}
