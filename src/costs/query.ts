import type { Allocation } from '../config/load.js';

/** A Cost Explorer GetCostAndUsage request in the project's own terms (the adapter maps it to the SDK). */
export interface CostQuery {
  readonly granularity: 'DAILY' | 'MONTHLY';
  readonly start: string;
  readonly endExclusive: string;
  readonly metric: string;
  readonly groupBy: ReadonlyArray<{ readonly type: 'DIMENSION' | 'TAG' | 'COST_CATEGORY'; readonly key: string }>;
  readonly excludeRecordTypes: readonly string[];
}

/** One page of a GetCostAndUsage answer: per time period (a day, or the whole window when MONTHLY), its groups. */
export interface CostPage {
  readonly periods: ReadonlyArray<{
    readonly start: string;
    readonly estimated: boolean;
    readonly groups: ReadonlyArray<{ readonly keys: readonly string[]; readonly amount: string; readonly unit: string }>;
  }>;
  readonly nextPageToken?: string | undefined;
}

/** The port through which cost data is read: AWS Cost Explorer in production, sample data in the demo. */
export interface CostExplorerPort {
  getCostAndUsage(query: CostQuery, nextPageToken: string | undefined): Promise<CostPage>;
  /** Projected cost from `start` (today or later) to `endExclusive`, as a decimal string. */
  getCostForecast?(range: { start: string; endExclusive: string; metric: string }): Promise<string>;
}

/** Money metrics Cost Explorer can report (the usage-quantity metrics are not money and are refused). */
export const COST_METRICS = ['UnblendedCost', 'BlendedCost', 'AmortizedCost', 'NetUnblendedCost', 'NetAmortizedCost'] as const;
export type CostMetric = (typeof COST_METRICS)[number];

/** The two queries that read a window for every customer at once. */
export interface CostQueries {
  /** The window's total per customer and service: MONTHLY, grouped by the allocation dimension and SERVICE. */
  readonly byService: CostQuery;
  /**
   * Each day's total per customer: DAILY, grouped by the allocation dimension only. It may start before the window
   * (`dailyStart`) to read the anomaly detector's baseline days in the same query.
   */
  readonly daily: CostQuery;
}

/**
 * Two queries for every customer, each asking only for what the report, alerts, forecast and billing use: per
 * customer the window's services (customers x services groups) and its days (customers x days groups), instead of
 * every customer x service x day. The requests grow with the data's pages, never one per customer. `dailyStart`
 * (before the window's start) makes the daily query also read the days just before the window: more groups in its
 * pages, never another query.
 */
export function buildCostQueries(
  allocation: Allocation,
  window: { start: string; endExclusive: string },
  metric: CostMetric,
  excludeRecordTypes: readonly string[],
  dailyStart: string = window.start,
): CostQueries {
  const service = { type: 'DIMENSION', key: 'SERVICE' } as const;
  const byCustomer = customerDimension(allocation);
  const common = { start: window.start, endExclusive: window.endExclusive, metric, excludeRecordTypes };
  return {
    byService: { ...common, granularity: 'MONTHLY', groupBy: byCustomer ? [byCustomer, service] : [service] },
    daily: { ...common, start: dailyStart < window.start ? dailyStart : window.start, granularity: 'DAILY', groupBy: byCustomer ? [byCustomer] : [] },
  };
}

function customerDimension(allocation: Allocation): CostQuery['groupBy'][number] | undefined {
  if (allocation.kind === 'LINKED_ACCOUNT') return { type: 'DIMENSION', key: 'LINKED_ACCOUNT' };
  if (allocation.kind === 'TAG') return { type: 'TAG', key: allocation.key };
  if (allocation.kind === 'COST_CATEGORY') return { type: 'COST_CATEGORY', key: allocation.name };
  return undefined;
}
/** Tag and cost category group keys come back as "name$value" ("team$" when untagged); accounts come bare. */
export function groupValue(allocation: Allocation, key: string): string {
  if (allocation.kind === 'TAG' || allocation.kind === 'COST_CATEGORY') {
    const dollar = key.indexOf('$');
    return dollar === -1 ? key : key.slice(dollar + 1);
  }
  return key;
}
