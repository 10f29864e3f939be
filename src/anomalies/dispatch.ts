import { claimAndPublish, sentRecorder, type AlertOutcome, type DispatchOptions } from '../alerts/dispatch.js';
import type { BudgetAlert } from '../alerts/evaluate.js';
import { formatMoney, toDecimalString } from '../money.js';
import type { Notification } from '../notifications.js';
import type { CostAnomaly } from './detect.js';

export type AnomalyOutcome = CostAnomaly & {
  /** As for budget alerts: sent, already-sent, would-send (dry run), summary-only (no topic) or failed (next run retries). */
  readonly status: AlertOutcome['status'];
  readonly messageId?: string;
  readonly error?: string;
};

/**
 * The anomaly's marker in the alert marker store: its day stands as the period (`ALERT#2026-11-14`), so it can
 * never meet a month's budget markers (`ALERT#2026-11`), and each customer's day is claimed once.
 */
export function anomalyMarker(anomaly: CostAnomaly): BudgetAlert {
  return {
    period: anomaly.day,
    scope: anomaly.customerId,
    scopeName: anomaly.customerName,
    kind: 'actual',
    level: 0,
    amount: anomaly.actual,
    limit: anomaly.expected,
    currency: anomaly.currency,
    estimated: anomaly.estimated,
  };
}

/** Publishes each anomaly once per customer and day with the budget alerts' claim, publish, record-sent scheme. */
export async function dispatchAnomalies(anomalies: readonly CostAnomaly[], options: DispatchOptions): Promise<AnomalyOutcome[]> {
  const { markers, dryRun, now } = options;
  const outcomes: AnomalyOutcome[] = [];
  const recorder = markers ? sentRecorder(markers, now) : undefined;
  for (const anomaly of anomalies) {
    const marker = anomalyMarker(anomaly);
    if (dryRun || !markers || !recorder) {
      const sent = markers ? await markers.wasSent(marker) : false;
      outcomes.push({ ...anomaly, status: sent ? 'already-sent' : dryRun ? 'would-send' : 'summary-only' });
      continue;
    }
    outcomes.push({ ...anomaly, ...(await claimAndPublish(marker, () => anomalyNotification(anomaly), markers, recorder, options)) });
  }
  await recorder?.flush();
  return outcomes;
}

export function anomalyNotification(anomaly: CostAnomaly): Notification {
  const $ = (amount: number) => formatMoney(amount, anomaly.currency);
  const services = anomaly.largestServices.map((s) => `${s.service} (${$(s.amount)})`).join(', ');
  return {
    subject: `AWS cost anomaly: ${anomaly.customerName} spent ${$(anomaly.actual)} on ${anomaly.day} (usually ${$(anomaly.expected)})`,
    message: [
      `${anomaly.customerName} (${anomaly.customerId}) spent ${$(anomaly.actual)} on ${anomaly.day}; a usual ${weekdayName(anomaly.day)} costs about ${$(anomaly.expected)}.`,
      services ? `Largest services in ${anomaly.period} so far: ${services}.` : '',
      anomaly.estimated ? 'Cost Explorer marks this data as Estimated; it may still change.' : '',
    ]
      .filter(Boolean)
      .join('\n'),
    attributes: {
      type: 'cost-anomaly',
      customer: anomaly.customerId,
      day: anomaly.day,
      period: anomaly.period,
      expected: toDecimalString(anomaly.expected),
      actual: toDecimalString(anomaly.actual),
    },
  };
}

/** Built once, as `periodLabel`'s: `toLocaleString` would build an ICU formatter per call. */
const weekday = new Intl.DateTimeFormat('en-US', { weekday: 'long', timeZone: 'UTC' });

function weekdayName(day: string): string {
  return weekday.format(new Date(Date.parse(day)));
}
