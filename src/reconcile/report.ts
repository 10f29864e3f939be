import { formatMoney, fromMinorUnits } from '../money.js';
import type { Notification, Publisher } from '../notifications.js';
import { markdownCell as cell } from '../report/markdown.js';
import type { Drift, DriftKind, ReconcileResult } from './reconcile.js';

const KIND_TEXT: Record<DriftKind, string> = {
  'unrecorded-invoice': 'Stripe invoice without ledger entry',
  'invoice-not-billed': 'Ledger entry whose invoice bills nothing',
  'status-behind': 'Invoice record behind Stripe',
  'amount-mismatch': 'Amount differs',
};

const minor = (amount: number | undefined, currency: string) => (amount === undefined ? '–' : formatMoney(fromMinorUnits(amount, currency), currency));

/** Drifts that lose money: the step fails on them, after its summary, report and notifications are out. */
export function moneyLosingDrifts(result: ReconcileResult): readonly Drift[] {
  return result.drifts.filter((drift) => drift.losesMoney);
}

/** The job summary of a reconcile run. */
export function renderReconcileSummary(result: ReconcileResult, rows = 50): string {
  const lines = [`## Billing reconciliation with Stripe: ${result.periods.join(' and ')}`, ''];
  if (result.dryRun) lines.push('> [!NOTE]', '> **Dry run**: nothing was repaired and nothing was published.', '');
  lines.push(
    `${result.invoicesChecked} Stripe invoice${result.invoicesChecked === 1 ? '' : 's'} and ${result.entriesChecked} invoiced ledger entr${result.entriesChecked === 1 ? 'y' : 'ies'} compared · ${result.stripeRequests} Stripe request${result.stripeRequests === 1 ? '' : 's'} (read-only)`,
    '',
  );
  if (result.drifts.length === 0) return [...lines, '✅ No drift: Stripe, the ledger and the invoice records agree.', ''].join('\n');
  const losing = moneyLosingDrifts(result).length;
  lines.push(`${losing > 0 ? '❌' : '⚠️'} ${result.drifts.length} drift${result.drifts.length === 1 ? '' : 's'}, ${losing} losing money.`, '');
  lines.push('| Customer | Period | Drift | Invoice | Ledger | Stripe | Loses money | What to do |', '|:--|:--|:--|:--|--:|--:|:--|:--|');
  for (const d of result.drifts.slice(0, rows)) {
    const stripe = `${minor(d.stripeMinor, d.currency)} (${d.stripeStatus})`;
    const ledger = d.kind === 'status-behind' ? `record: ${d.recordStatus ?? 'none'}` : minor(d.ledgerMinor, d.currency);
    lines.push(
      `| \`${cell(d.customerId)}\` | ${d.period} | ${KIND_TEXT[d.kind]} | \`${d.invoiceId}\` | ${ledger} | ${stripe} | ${d.losesMoney ? '**yes**' : 'no'} | ${cell(d.action)} |`,
    );
  }
  if (result.drifts.length > rows) lines.push('', `…and ${result.drifts.length - rows} more; all are in the JSON report.`);
  return [...lines, ''].join('\n');
}

/** The JSON report of a reconcile run. */
export function reconcileReport(result: ReconcileResult) {
  return {
    schemaVersion: 1,
    periods: result.periods,
    dryRun: result.dryRun,
    invoicesChecked: result.invoicesChecked,
    entriesChecked: result.entriesChecked,
    stripeRequests: result.stripeRequests,
    drifts: result.drifts,
  };
}

export function driftNotification(drift: Drift): Notification {
  return {
    subject: `Billing drift: ${KIND_TEXT[drift.kind]} for ${drift.customerId} (${drift.period})`,
    message: [
      `${KIND_TEXT[drift.kind]}: invoice ${drift.invoiceId}${drift.entryId ? `, ledger entry ${drift.entryId}` : ''}, customer ${drift.customerId}, period ${drift.period}.`,
      `Ledger ${minor(drift.ledgerMinor, drift.currency)}; Stripe ${minor(drift.stripeMinor, drift.currency)} (${drift.stripeStatus})${drift.recordStatus ? `; invoice record ${drift.recordStatus}` : ''}.`,
      drift.losesMoney ? 'This drift loses money until someone acts.' : '',
      drift.action,
    ]
      .filter(Boolean)
      .join('\n'),
    attributes: {
      type: 'billing-drift',
      customer: drift.customerId,
      period: drift.period,
      drift: drift.kind,
      invoice: drift.invoiceId,
      losesMoney: String(drift.losesMoney),
    },
  };
}

/** One notice per drift; returns the failures (the step then fails, after its summary and report). */
export async function publishDrifts(result: ReconcileResult, publish: Publisher | undefined): Promise<string[]> {
  if (!publish || result.dryRun) return [];
  const failures: string[] = [];
  for (const drift of result.drifts) {
    await publish(driftNotification(drift)).catch((error: unknown) =>
      failures.push(`${drift.invoiceId}: ${error instanceof Error ? error.message : String(error)}`),
    );
  }
  return failures;
}
