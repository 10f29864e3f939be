import type { Allocation } from '../config/load.js';

/** A Cost Explorer GetCostAndUsage request in the project's own terms (the adapter maps it to the SDK). */
export interface CostQuery {
  readonly start: string;
  readonly endExclusive: string;
  readonly metric: string;
  readonly groupBy: ReadonlyArray<{ readonly type: 'DIMENSION' | 'TAG' | 'COST_CATEGORY'; readonly key: string }>;
  readonly excludeRecordTypes: readonly string[];
}

/** One page of a GetCostAndUsage answer. */
export interface CostPage {
  readonly days: ReadonlyArray<{
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

/**
 * One query for every customer: DAILY, grouped by the allocation dimension and by SERVICE. The number of requests
 * grows with the data's pages only, never with the number of customers.
 */
export function buildCostQuery(
  allocation: Allocation,
  window: { start: string; endExclusive: string },
  metric: CostMetric,
  excludeRecordTypes: readonly string[],
): CostQuery {
  const service = { type: 'DIMENSION', key: 'SERVICE' } as const;
  const byCustomer =
    allocation.kind === 'LINKED_ACCOUNT'
      ? ({ type: 'DIMENSION', key: 'LINKED_ACCOUNT' } as const)
      : allocation.kind === 'TAG'
        ? ({ type: 'TAG', key: allocation.key } as const)
        : allocation.kind === 'COST_CATEGORY'
          ? ({ type: 'COST_CATEGORY', key: allocation.name } as const)
          : undefined;
  return {
    start: window.start,
    endExclusive: window.endExclusive,
    metric,
    groupBy: byCustomer ? [byCustomer, service] : [service],
    excludeRecordTypes,
  };
}

/** Tag and cost category group keys come back as "name$value" ("team$" when untagged); accounts come bare. */
export function groupValue(allocation: Allocation, key: string): string {
  if (allocation.kind === 'TAG' || allocation.kind === 'COST_CATEGORY') {
    const dollar = key.indexOf('$');
    return dollar === -1 ? key : key.slice(dollar + 1);
  }
  return key;
}
