import type { AlertOutcome } from '../alerts/dispatch.js';
import { renderAnomalySection, type AnomalyResult } from '../anomalies/report.js';
import { customerCharges, percentOf, type AllowanceStatus } from '../billing/charge.js';
import type { BillingConfig } from '../config/load.js';
import type { CostSnapshot } from '../costs/types.js';
import { formatMoney, toUnits, type Micros } from '../money.js';
import { periodLabel } from '../period.js';
import { markdownCell as cell } from './markdown.js';

export interface SummaryOptions {
  readonly dryRun: boolean;
  /** Rows of the customer and alert tables before "and N more" (keeps the summary far below GitHub's 1 MiB). */
  readonly topCustomers?: number;
  readonly topServices?: number;
  /** Where the full JSON report went, named in the truncation notes. */
  readonly reportPath?: string;
  /** The cost anomaly section, shown after the alerts when given. */
  readonly anomalies?: AnomalyResult;
}

/** GitHub refuses step summaries over 1 MiB; rendering is bounded by the top-N limits far below that. */
export const STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024;

const STATUS_TEXT: Record<AllowanceStatus | 'no-limit', string> = {
  over: '🔴 Over',
  'forecast-over': '🟠 Forecast over',
  within: '🟢 Within',
  'no-limit': '⚪ No limit',
};

/** The whole bill against the budget threshold (AWS cost, no markup); a threshold of 0 is no threshold. */
function thresholdStatus(cost: Micros, forecast: Micros, threshold: Micros): AllowanceStatus | 'no-limit' {
  if (threshold <= 0) return 'no-limit';
  if (cost > threshold) return 'over';
  return forecast > threshold ? 'forecast-over' : 'within';
}

/**
 * The job summary: headline, customers, services, daily trend, alerts, all in GitHub-flavoured markdown. Customers
 * are shown with their cost and their charge (cost with markup); Used, Forecast and Status compare the charge with
 * the allowance, as billing does.
 */
export function renderSummary(
  snapshot: CostSnapshot,
  config: Pick<BillingConfig, 'customers'>,
  alerts: readonly AlertOutcome[],
  options: SummaryOptions,
): string {
  const topCustomers = options.topCustomers ?? 50;
  const topServices = options.topServices ?? 10;
  const report = options.reportPath ? `the JSON report (\`${options.reportPath}\`)` : 'the JSON report';
  const currency = snapshot.currency;
  const $ = (amount: Micros) => formatMoney(amount, currency);
  const { total } = snapshot;
  const forecast = total.awsForecast ?? total.forecast;
  const lines: string[] = [];

  lines.push(`## AWS costs for ${periodLabel(snapshot.period)}`, '');
  const through = snapshot.window.complete
    ? 'the whole month'
    : snapshot.window.start === snapshot.window.endExclusive
      ? 'no complete day yet'
      : `month to date, through ${lastDay(snapshot.window.endExclusive)}`;
  lines.push(`${through} · ${snapshot.metric} · ${snapshot.customers.length} customer${snapshot.customers.length === 1 ? '' : 's'}`, '');
  if (options.dryRun) lines.push('> [!NOTE]', '> **Dry run**: no alert was published and nothing was written.', '');
  if (snapshot.estimated) lines.push('> [!WARNING]', '> Cost Explorer marks this data as **Estimated**: it can still change until the month has closed.', '');

  // A closed month's cost is its total, not a figure to date.
  const costLabel = snapshot.window.complete ? 'Cost' : 'Cost to date';
  lines.push(
    `| ${snapshot.window.complete ? 'Month total' : 'Month to date'} | Forecast (month end) | Budget threshold | Used | Status |`,
    '|---:|---:|---:|---:|:--|',
  );
  lines.push(
    `| **${$(total.cost)}** | ${$(forecast)}${total.awsForecast === undefined ? '' : ' (AWS)'} | ${$(total.threshold)} | ${percent(percentOf(total.cost, total.threshold))} | ${STATUS_TEXT[thresholdStatus(total.cost, forecast, total.threshold)]} |`,
    '',
  );

  lines.push('### Customers', '');
  lines.push(
    `| Customer | ${costLabel} | Markup | ${snapshot.window.complete ? 'Charge' : 'Charge to date'} | Allowance | Used | Forecast charge | Top service | Status |`,
    '|:--|---:|---:|---:|---:|---:|---:|:--|:--|',
  );
  const names = new Map(snapshot.customers.map((c) => [c.customerId, c]));
  const charges = customerCharges(snapshot, config.customers).sort((a, b) => b.charge - a.charge || a.customerId.localeCompare(b.customerId));
  for (const charge of charges.slice(0, topCustomers)) {
    const c = names.get(charge.customerId);
    if (!c) continue;
    const money = (amount: Micros) => formatMoney(amount, c.currency);
    lines.push(
      `| ${cell(c.name)} (\`${c.customerId}\`) | ${money(charge.cost)} | ${charge.markupPercent}% | **${money(charge.charge)}** | ${money(charge.allowance)} | ${percent(charge.usedPercent)} | ${money(charge.forecastCharge)} | ${cell(c.services[0]?.service ?? '–')} | ${STATUS_TEXT[charge.status]} |`,
    );
  }
  if (snapshot.unmapped.cost !== 0) {
    const keys = snapshot.unmapped.keys
      .slice(0, 3)
      .map((u) => `\`${cell(u.key || '(none)')}\``)
      .join(', ');
    lines.push(
      `| ⚠️ Unmapped (${keys}${snapshot.unmapped.keys.length > 3 ? ', …' : ''}) | ${$(snapshot.unmapped.cost)} | – | – | – | – | – | – | no customer matches |`,
    );
  }
  lines.push('');
  if (charges.length > topCustomers) {
    const rest = charges.slice(topCustomers);
    const cost = rest.reduce((t, c) => t + c.cost, 0);
    const charged = rest.reduce((t, c) => t + c.charge, 0);
    lines.push(`…and ${rest.length} more customers (cost ${$(cost)}, charge ${$(charged)}); every customer is in ${report}.`, '');
  }

  lines.push('### Top services', '');
  lines.push(`| Service | ${costLabel} | Share |`, '|:--|---:|---:|');
  for (const s of total.services.slice(0, topServices)) lines.push(`| ${cell(s.service)} | ${$(s.amount)} | ${percent(percentOf(s.amount, total.cost))} |`);
  if (total.services.length > topServices) {
    const rest = total.services.slice(topServices);
    lines.push(`| …and ${rest.length} more | ${$(rest.reduce((t, s) => t + s.amount, 0))} | |`);
  }
  lines.push('');

  if (total.daily.length > 0) lines.push('### Daily cost', '', ...dailyChart(snapshot), '');

  lines.push('### Alerts', '');
  if (alerts.length === 0) {
    lines.push('No budget level reached.');
  } else {
    lines.push('| Scope | Level | Amount | Limit | Status |', '|:--|---:|---:|---:|:--|');
    for (const a of alerts.slice(0, topCustomers)) {
      lines.push(
        `| ${cell(a.scopeName)} | ${a.level}% ${a.kind === 'forecast' ? 'of forecast' : ''} | ${formatMoney(a.amount, a.currency)} | ${formatMoney(a.limit, a.currency)} | ${ALERT_STATUS[a.status]} |`,
      );
    }
    if (alerts.length > topCustomers) lines.push('', `…and ${alerts.length - topCustomers} more alerts; all are in ${report}.`);
  }
  lines.push('');
  if (options.anomalies) lines.push(...renderAnomalySection(options.anomalies, topCustomers));
  lines.push(
    `<sub>${snapshot.costExplorerRequests} Cost Explorer request${snapshot.costExplorerRequests === 1 ? '' : 's'} ($${(snapshot.costExplorerRequests * 0.01).toFixed(2)}) · generated ${snapshot.generatedAt}</sub>`,
    '',
  );
  return lines.join('\n');
}

const ALERT_STATUS: Record<AlertOutcome['status'], string> = {
  sent: '📣 Sent',
  // Also the status of a level an earlier run showed without a topic, which was never published.
  'already-sent': 'Raised earlier',
  'would-send': 'Would send (dry run)',
  'summary-only': 'Summary only (no topic)',
  failed: '❌ Publish failed (next run retries)',
};

function dailyChart(snapshot: CostSnapshot): string[] {
  const values = snapshot.total.daily.map((amount) => Math.round(toUnits(amount) * 100) / 100);
  const startDay = Number(snapshot.window.start.slice(8, 10));
  const days = values.map((_, i) => String(startDay + i));
  const max = Math.max(1, ...values);
  return [
    '```mermaid',
    'xychart-beta',
    `  title "Daily cost (${snapshot.currency.toUpperCase()})"`,
    `  x-axis [${days.join(', ')}]`,
    `  y-axis "Cost" 0 --> ${Math.ceil(max * 1.1)}`,
    `  bar [${values.join(', ')}]`,
    '```',
  ];
}

function percent(value: number | null): string {
  return value === null ? '–' : `${value.toFixed(1)}%`;
}

function lastDay(endExclusive: string): string {
  return new Date(Date.parse(endExclusive) - 86_400_000).toISOString().slice(0, 10);
}
