import type { AlertOutcome } from '../alerts/dispatch.js';
import { anomalyReport } from '../anomalies/report.js';
import { toDecimalString } from '../money.js';
import type { CostCheckResult } from './run.js';

/**
 * Entries a list output holds at most. GitHub accepts 1 MB of outputs per job: a run over 10,000 customers must stay
 * far below that, so lists are capped and counted; the JSON report (artifact) and the job summary hold everything.
 */
export const OUTPUT_LIST_LIMIT = 100;

/** The cost-check action's step outputs (actions/cost-check/action.yml), each small whatever the number of customers. */
export function costCheckOutputs(result: CostCheckResult, reportPath: string): Record<string, string> {
  const { snapshot, alerts } = result;
  return {
    'total-cost': toDecimalString(snapshot.total.cost),
    forecast: toDecimalString(snapshot.total.awsForecast ?? snapshot.total.forecast),
    'threshold-exceeded': String(result.thresholdExceeded),
    'over-allowance': JSON.stringify(result.overAllowance.slice(0, OUTPUT_LIST_LIMIT)),
    'over-allowance-count': String(result.overAllowance.length),
    alerts: JSON.stringify(
      newsFirst(alerts)
        .slice(0, OUTPUT_LIST_LIMIT)
        .map(({ scope, kind, level, status }) => ({ scope, kind, level, status })),
    ),
    'alerts-count': JSON.stringify(countByStatus(alerts)),
    anomalies: JSON.stringify(
      anomalyReport(result.anomalies)
        .found.slice(0, OUTPUT_LIST_LIMIT)
        .map(({ customerId, day, expected, actual, status }) => ({ customer: customerId, day, expected, actual, status })),
    ),
    estimated: String(snapshot.estimated),
    'report-path': reportPath,
    'ce-requests': String(snapshot.costExplorerRequests),
  };
}

/** What this run did (failed, sent, ...) before what earlier runs did, each group in its original order. */
function newsFirst(alerts: readonly AlertOutcome[]): AlertOutcome[] {
  return [...alerts.filter((a) => a.status !== 'already-sent'), ...alerts.filter((a) => a.status === 'already-sent')];
}

function countByStatus(alerts: readonly AlertOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const alert of alerts) counts[alert.status] = (counts[alert.status] ?? 0) + 1;
  return counts;
}
