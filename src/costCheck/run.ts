import { dispatchAlerts, type AlertMarkerStore, type AlertOutcome } from '../alerts/dispatch.js';
import { crossedLevels } from '../alerts/evaluate.js';
import { detectAnomalies } from '../anomalies/detect.js';
import { dispatchAnomalies } from '../anomalies/dispatch.js';
import type { AnomalyResult } from '../anomalies/report.js';
import type { BillingConfig } from '../config/load.js';
import { collectCosts, type CollectOptions } from '../costs/collect.js';
import type { CostExplorerPort } from '../costs/query.js';
import type { CostSnapshot } from '../costs/types.js';
import { applyMarkup } from '../money.js';
import type { Publisher } from '../notify/sns.js';

export interface CostCheckPorts {
  readonly costExplorer: CostExplorerPort;
  /** Absent without a billing table: alerts then appear in the summary only. */
  readonly markers?: AlertMarkerStore | undefined;
  /** Absent without a topic. */
  readonly publish?: Publisher | undefined;
}

export interface CostCheckResult {
  readonly snapshot: CostSnapshot;
  readonly alerts: readonly AlertOutcome[];
  /** The whole bill is over the budget threshold. */
  readonly thresholdExceeded: boolean;
  /** Customers whose cost to date with markup is over their allowance: the ones the billing step will invoice. */
  readonly overAllowance: readonly string[];
  /** Alerts that could not be published; the run fails after writing its report. */
  readonly failedAlerts: number;
  /** Customers whose last complete day cost far more than usual, each published once per customer and day. */
  readonly anomalies: AnomalyResult;
}

/** The daily cost check: read costs, find the budget levels reached, send each alert once. */
export async function runCostCheck(
  ports: CostCheckPorts,
  config: BillingConfig,
  options: CollectOptions & { readonly dryRun: boolean },
): Promise<CostCheckResult> {
  const snapshot = await collectCosts(ports.costExplorer, config, options);
  const alerts = await dispatchAlerts(crossedLevels(snapshot, config), {
    markers: ports.markers,
    publish: options.dryRun ? undefined : ports.publish,
    dryRun: options.dryRun,
    now: options.now,
  });
  const scan = detectAnomalies(snapshot, config.anomalies);
  const anomalies: AnomalyResult = {
    ...scan,
    settings: config.anomalies,
    anomalies: await dispatchAnomalies(scan.anomalies, {
      markers: ports.markers,
      publish: options.dryRun ? undefined : ports.publish,
      dryRun: options.dryRun,
      now: options.now,
    }),
  };
  const thresholdExceeded = snapshot.total.threshold > 0 && snapshot.total.cost > snapshot.total.threshold;
  const markup = new Map(config.customers.map((customer) => [customer.id, customer.markupPercent]));
  const overAllowance = snapshot.customers.filter((c) => applyMarkup(c.cost, markup.get(c.customerId) ?? 0) > c.allowance).map((c) => c.customerId);
  return { snapshot, alerts, thresholdExceeded, overAllowance, failedAlerts: alerts.filter((a) => a.status === 'failed').length, anomalies };
}
