import type { Notification, Publisher } from '../notify/sns.js';
import { formatMoney } from '../money.js';
import type { BudgetAlert } from './evaluate.js';

/** Proof that this run holds an alert's marker; only its holder may mark it sent or give it back. */
export interface AlertClaim {
  readonly token: string;
}

/** Where "this alert was sent" is remembered, so each level goes out once per period. */
export interface AlertMarkerStore {
  /** Claims the alert with a conditional write; undefined when another run already holds or sent it. */
  claim(alert: BudgetAlert, now: Date): Promise<AlertClaim | undefined>;
  /** False when the claim was taken over meanwhile (this run was too slow): the new holder decides. */
  markSent(alert: BudgetAlert, claim: AlertClaim, messageId: string, now: Date): Promise<boolean>;
  /** Gives a claim back after a failed publish so the next run tries again. */
  release(alert: BudgetAlert, claim: AlertClaim): Promise<void>;
  wasSent(alert: BudgetAlert): Promise<boolean>;
}

export type AlertOutcome = BudgetAlert & {
  /**
   * sent: published now; already-sent: an earlier run did; would-send: dry run; summary-only: no topic configured;
   * failed: publishing failed and the claim was given back, so the next run tries again.
   */
  readonly status: 'sent' | 'already-sent' | 'would-send' | 'summary-only' | 'failed';
  readonly messageId?: string;
  readonly error?: string;
};

export interface DispatchOptions {
  readonly markers: AlertMarkerStore | undefined;
  readonly publish: Publisher | undefined;
  readonly dryRun: boolean;
  readonly now: Date;
}

/**
 * Publishes each newly crossed level once: claim the marker, publish, then mark it sent. A failed publish does not
 * stop the others; its outcome says `failed` and the caller fails the run after writing its report.
 */
export async function dispatchAlerts(alerts: readonly BudgetAlert[], options: DispatchOptions): Promise<AlertOutcome[]> {
  const { markers, publish, dryRun, now } = options;
  const outcomes: AlertOutcome[] = [];
  for (const alert of alerts) {
    if (dryRun || !markers) {
      const sent = markers ? await markers.wasSent(alert) : false;
      outcomes.push({ ...alert, status: sent ? 'already-sent' : dryRun ? 'would-send' : 'summary-only' });
      continue;
    }
    const claim = await markers.claim(alert, now);
    if (!claim) {
      outcomes.push({ ...alert, status: 'already-sent' });
      continue;
    }
    if (!publish) {
      await markers.markSent(alert, claim, '', now);
      outcomes.push({ ...alert, status: 'summary-only' });
      continue;
    }
    let messageId: string;
    try {
      ({ messageId } = await publish(alertNotification(alert)));
    } catch (error) {
      // If the release fails too, the claim goes stale and a later run takes it over.
      await markers.release(alert, claim).catch(() => undefined);
      outcomes.push({ ...alert, status: 'failed', error: error instanceof Error ? error.message : String(error) });
      continue;
    }
    await markers.markSent(alert, claim, messageId, now);
    outcomes.push({ ...alert, status: 'sent', messageId });
  }
  return outcomes;
}

export function alertNotification(alert: BudgetAlert): Notification {
  const what = alert.kind === 'actual' ? 'cost to date' : 'forecast month-end cost';
  const limitName = alert.scope === 'TOTAL' ? 'budget threshold' : 'allowance';
  const amount = formatMoney(alert.amount, alert.currency);
  const limit = formatMoney(alert.limit, alert.currency);
  return {
    subject: `AWS cost alert: ${alert.scopeName} ${alert.kind === 'forecast' ? 'forecast ' : ''}at ${alert.level}% of ${limitName} (${alert.period})`,
    message: [
      `${alert.scopeName}: ${what} for ${alert.period} is ${amount}, ${alert.level}% or more of the ${limitName} of ${limit}.`,
      alert.estimated ? 'Cost Explorer marks this data as Estimated; it may still change.' : 'Cost Explorer data for this period is final.',
    ].join('\n'),
    attributes: {
      type: 'budget-alert',
      customer: alert.scope,
      kind: alert.kind,
      level: String(alert.level),
      period: alert.period,
    },
  };
}
