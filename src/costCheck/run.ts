import { dispatchAlerts, type AlertMarkerStore, type AlertOutcome } from '../alerts/dispatch.js';
import { crossedLevels } from '../alerts/evaluate.js';
import { baselineStart, detectAnomalies } from '../anomalies/detect.js';
import { dispatchAnomalies } from '../anomalies/dispatch.js';
import type { AnomalyResult } from '../anomalies/report.js';
import { customerCharges, type CustomerCharge } from '../billing/charge.js';
import type { BillingConfig } from '../config/load.js';
import { collectCosts, type CollectOptions } from '../costs/collect.js';
import type { CostExplorerPort } from '../costs/query.js';
import type { CostSnapshot } from '../costs/types.js';
import type { Publisher } from '../notifications.js';
import { dataWindow } from '../period.js';

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
  /** Each customer's cost and charge (cost with markup) against its allowance, in the snapshot's order. */
  readonly charges: readonly CustomerCharge[];
  /** Customers whose charge to date is over their allowance: the ones the billing step will invoice. */
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
  // Early in a month the anomaly baseline reaches into last month: the daily query reads those days too.
  const lookbackStart = baselineStart(dataWindow(options.period, options.now), config.anomalies);
  const snapshot = await collectCosts(ports.costExplorer, config, lookbackStart === undefined ? options : { ...options, lookbackStart });
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
  const charges = customerCharges(snapshot, config.customers);
  const overAllowance = charges.filter((c) => c.status === 'over').map((c) => c.customerId);
  return { snapshot, alerts, thresholdExceeded, charges, overAllowance, failedAlerts: alerts.filter((a) => a.status === 'failed').length, anomalies };
}
