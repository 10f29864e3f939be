import type { Micros } from '../money.js';

export interface CustomerCosts {
  readonly customerId: string;
  readonly name: string;
  readonly currency: string;
  /** Month to date (the queried window). */
  readonly cost: Micros;
  readonly allowance: Micros;
  /** Month-end projection from the daily run-rate. */
  readonly forecast: Micros;
  /** Largest first. */
  readonly services: ReadonlyArray<{ readonly service: string; readonly amount: Micros }>;
  /** One entry per day of the window, oldest first, zero where nothing was spent. */
  readonly daily: readonly Micros[];
  /**
   * The days just before the window, oldest first (the last one is the day before `window.start`), zero where
   * nothing was spent: read in the daily query early in a running month so that the anomaly detector has
   * `anomalies.lookbackDays` of history. Only a baseline: no cost, total, forecast, charge, alert or report figure
   * includes them, and the JSON cost report leaves them out. Absent when no day before the window was read, or when
   * the customer cost nothing on any of them (new this month: its baseline is then the month's days alone).
   */
  readonly lookbackDaily?: readonly Micros[];
}

/** Everything the cost check learned about one billing period; the JSON cost report is its serialised form. */
export interface CostSnapshot {
  readonly period: string;
  readonly window: { readonly start: string; readonly endExclusive: string; readonly complete: boolean };
  readonly metric: string;
  readonly currency: string;
  /**
   * The currency Cost Explorer reported the amounts in ("USD"), absent when there was no data. Amounts are never
   * converted: a customer whose currency differs cannot be billed from them.
   */
  readonly costUnit?: string;
  /** True when any of the data is Cost Explorer's `Estimated` (the current month always is). */
  readonly estimated: boolean;
  readonly generatedAt: string;
  readonly customers: readonly CustomerCosts[];
  /** Cost that no customer's `match` claims: reported, never lost. */
  readonly unmapped: {
    readonly cost: Micros;
    readonly keys: ReadonlyArray<{ readonly key: string; readonly amount: Micros }>;
  };
  readonly total: {
    readonly cost: Micros;
    readonly forecast: Micros;
    /** AWS GetCostForecast for the rest of the month plus cost to date, when requested. */
    readonly awsForecast?: Micros;
    readonly threshold: Micros;
    readonly services: ReadonlyArray<{ readonly service: string; readonly amount: Micros }>;
    readonly daily: readonly Micros[];
  };
  /** Cost Explorer requests this run made (each costs $0.01). */
  readonly costExplorerRequests: number;
}
