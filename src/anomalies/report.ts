import { formatMoney, toDecimalString, toUnits } from '../money.js';
import { markdownCell as cell } from '../report/markdown.js';
import type { AnomalySettings, AnomalyScan } from './detect.js';
import type { AnomalyOutcome } from './dispatch.js';

/** What the cost check did about anomalies: the scan, each anomaly's fate, and the rule applied. */
export interface AnomalyResult extends AnomalyScan {
  readonly anomalies: readonly AnomalyOutcome[];
  readonly settings: AnomalySettings;
}

/** The `anomalies` field of the JSON cost report, money as exact decimal strings. */
export function anomalyReport(result: AnomalyResult) {
  return {
    enabled: result.settings.enabled,
    ...(result.day === undefined ? {} : { day: result.day }),
    found: result.anomalies.map((a) => ({
      customerId: a.customerId,
      day: a.day,
      expected: toDecimalString(a.expected),
      actual: toDecimalString(a.actual),
      largestServices: a.largestServices.map((s) => ({ service: s.service, amount: toDecimalString(s.amount) })),
      status: a.status,
      ...(a.error ? { error: a.error } : {}),
    })),
  };
}

const STATUS: Record<AnomalyOutcome['status'], string> = {
  sent: '📣 Sent',
  'already-sent': 'Alerted earlier',
  'would-send': 'Would send (dry run)',
  'summary-only': 'Summary only (no topic)',
  failed: '❌ Publish failed (next run retries)',
};

/** The job summary's "Cost anomalies" section. */
export function renderAnomalySection(result: AnomalyResult, rows = 50): string[] {
  const { settings } = result;
  const lines = ['### Cost anomalies', ''];
  if (!settings.enabled) return [...lines, 'Anomaly detection is off (`anomalies.enabled: false`).', ''];
  if (result.day === undefined) return [...lines, 'No day judged: the period is closed or has no complete day yet.', ''];
  const rule = `over ${settings.ratio}× the usual cost and over it by more than ${toUnits(settings.minimum)}; usual: the median of the same weekday, or kind of day, in the ${settings.lookbackDays} days before`;
  if (result.anomalies.length === 0) return [...lines, `No customer's cost on ${result.day} was unusual (${rule}).`, ''];
  lines.push(`Customers whose cost on ${result.day} was unusual (${rule}):`, '');
  lines.push('| Customer | Day | Usual | Actual | × | Largest services this month | Status |', '|:--|:--|---:|---:|---:|:--|:--|');
  for (const a of result.anomalies.slice(0, rows)) {
    const $ = (amount: number) => formatMoney(amount, a.currency);
    const times = a.expected > 0 ? `${(a.actual / a.expected).toFixed(1)}×` : 'new';
    const services = a.largestServices.map((s) => cell(s.service)).join(', ') || '–';
    lines.push(
      `| ${cell(a.customerName)} (\`${a.customerId}\`) | ${a.day} | ${$(a.expected)} | ${$(a.actual)} | ${times} | ${services} | ${STATUS[a.status]} |`,
    );
  }
  if (result.anomalies.length > rows) lines.push('', `…and ${result.anomalies.length - rows} more; all are in the JSON report.`);
  return [...lines, ''];
}
