import { formatMinor } from '../billing/plan.js';
import { formatMoney } from '../money.js';
import { periodLabel } from '../period.js';
import { markdownCell } from '../report/markdown.js';
import type { ConfigProblem } from './configProblems.js';
import type { BillingPreview, CustomerChange, CustomerTerms, TermField } from './diff.js';

/** Finds the preview's own comment on a pull request: every comment it writes starts with this line. */
export const PREVIEW_MARKER = '<!-- billing-preview -->';

/** GitHub refuses issue comments over 65,536 characters; rows past this count go to the job summary only. */
export const COMMENT_ROW_LIMIT = 100;

/** The cost report the preview was computed against. */
export interface ReportSource {
  readonly period: string;
  readonly window: { readonly start: string; readonly endExclusive: string };
  readonly generatedAt: string;
  readonly runUrl: string;
}

export interface PreviewContext {
  readonly configPath: string;
  /** Undefined when no scheduled cost check on main left a report: terms are compared without figures. */
  readonly report: ReportSource | undefined;
  /** The base branch has no valid config: every customer shows as added. */
  readonly baseNote?: string;
}

export function renderPreview(preview: BillingPreview, context: PreviewContext, rowLimit = Number.POSITIVE_INFINITY): string {
  const lines = [PREVIEW_MARKER, `### Billing preview of \`${context.configPath}\``, '', reportLine(context.report)];
  if (context.baseNote) lines.push('', `> [!NOTE]`, `> ${context.baseNote}`);
  lines.push('');
  if (preview.changes.length === 0) {
    lines.push(`No customer's billing changes (${preview.unchangedCount} customer${preview.unchangedCount === 1 ? '' : 's'} compared).`);
    return `${lines.join('\n')}\n`;
  }
  lines.push('| Customer | Change | Allowance | Markup | Charge to date | Projected invoice | Also changed |', '|---|---|---:|---:|---:|---:|---|');
  for (const change of preview.changes.slice(0, rowLimit)) lines.push(changeRow(change));
  const hidden = preview.changes.length - Math.min(rowLimit, preview.changes.length);
  if (hidden > 0) lines.push('', `…and ${hidden} more customer${hidden === 1 ? '' : 's'}: see the job summary of this run.`);
  lines.push('', `${preview.unchangedCount} other customer${preview.unchangedCount === 1 ? ' is' : 's are'} unchanged.`);
  if (context.report) {
    const totals = preview.projectedTotals.map(
      (total) => `${formatMinor(total.beforeMinor, total.currency)} → ${formatMinor(total.afterMinor, total.currency)}`,
    );
    lines.push(`Projected invoices for ${periodLabel(context.report.period)}, all customers: ${totals.join(', ')}.`);
  }
  lines.push(
    '',
    '<sub>Charge = cost × (1 + markup). Projected invoice = the month-end forecast charge above the allowance: what the month is invoiced in total once settled. An empty ledger is assumed; nothing is billed by this check.</sub>',
  );
  return `${lines.join('\n')}\n`;
}

export function renderInvalidConfig(problems: readonly ConfigProblem[], configPath: string): string {
  const lines = [
    PREVIEW_MARKER,
    `### Billing preview of \`${configPath}\``,
    '',
    `The config is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing is previewed and the daily run would fail before billing:`,
    '',
    ...problems.map((problem) => `- ${problem.line === undefined ? '' : `line ${problem.line}: `}${markdownCell(problem.message)}`),
  ];
  return `${lines.join('\n')}\n`;
}

function reportLine(report: ReportSource | undefined): string {
  if (!report) return 'No cost report was found (no scheduled cost check on main has an unexpired `cost-report` artifact): terms are compared without costs.';
  const days = `${report.window.start} to ${report.window.endExclusive} exclusive`;
  return `Against the cost report of ${periodLabel(report.period)} (${days}) from the [scheduled cost check](${report.runUrl}) of ${report.generatedAt.slice(0, 16).replace('T', ' ')} UTC.`;
}

function changeRow(change: CustomerChange): string {
  const before = change.status === 'added' ? undefined : change.before;
  const after = change.status === 'removed' ? undefined : change.after;
  const name = (after ?? before)!.name;
  const figure = (render: (terms: CustomerTerms) => string) => beforeAfter(before && render(before), after && render(after));
  const cells = [
    `${markdownCell(name)} (${markdownCell(change.customerId)})`,
    change.status,
    figure((terms) => formatMoney(terms.allowance, terms.currency)),
    figure((terms) => `${terms.markupPercent} %`),
    figure((terms) => (terms.charge === undefined ? 'no costs' : formatMoney(terms.charge, terms.currency))),
    figure((terms) =>
      terms.failure ? 'not billable' : terms.projectedInvoiceMinor === undefined ? '—' : formatMinor(terms.projectedInvoiceMinor, terms.currency),
    ),
    change.status === 'changed' ? alsoChanged(change.fields, change.after) : '',
  ];
  return `| ${cells.join(' | ')} |`;
}

function beforeAfter(before: string | undefined, after: string | undefined): string {
  if (before === undefined) return `**${after ?? ''}**`;
  if (after === undefined) return `~~${before}~~`;
  return before === after ? before : `${before} → **${after}**`;
}

const OTHER_FIELDS: Partial<Record<TermField, string>> = {
  name: 'name',
  currency: 'currency',
  mode: 'billing mode',
  match: 'match (costs above are attributed under the old match until the next cost check)',
  stripeCustomerId: 'Stripe customer',
};

function alsoChanged(fields: readonly TermField[], after: CustomerTerms): string {
  const other = fields.flatMap((field) => OTHER_FIELDS[field] ?? []);
  if (after.failure) other.push(`not billable: ${after.failure}`);
  return markdownCell(other.join('; '));
}
