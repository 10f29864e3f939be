import type { Notification, Publisher } from '../notify/sns.js';
import { formatMoney } from '../money.js';
import type { BudgetAlert } from './evaluate.js';

/** Where "this alert was sent" is remembered, so each level goes out once per period. */
export interface AlertMarkerStore {
  /** Claims the alert with a conditional write; false when another run already claimed or sent it. */
  claim(alert: BudgetAlert, now: Date): Promise<boolean>;
  markSent(alert: BudgetAlert, messageId: string, now: Date): Promise<void>;
  /** Gives a claim back after a failed publish so the next run tries again. */
  release(alert: BudgetAlert, now: Date): Promise<void>;
  wasSent(alert: BudgetAlert): Promise<boolean>;
}

export type AlertOutcome = BudgetAlert & {
  /** sent: published now; already-sent: an earlier run did; would-send: dry run; summary-only: no topic configured. */
  readonly status: 'sent' | 'already-sent' | 'would-send' | 'summary-only';
  readonly messageId?: string;
};

export interface DispatchOptions {
  readonly markers: AlertMarkerStore | undefined;
  readonly publish: Publisher | undefined;
  readonly dryRun: boolean;
  readonly now: Date;
}

/** Publishes each newly crossed level once: claim the marker, publish, then mark it sent. */
export async function dispatchAlerts(alerts: readonly BudgetAlert[], options: DispatchOptions): Promise<AlertOutcome[]> {
  const { markers, publish, dryRun, now } = options;
  const outcomes: AlertOutcome[] = [];
  for (const alert of alerts) {
    if (dryRun || !markers) {
      const sent = markers ? await markers.wasSent(alert) : false;
      outcomes.push({ ...alert, status: sent ? 'already-sent' : dryRun ? 'would-send' : 'summary-only' });
      continue;
    }
    if (!(await markers.claim(alert, now))) {
      outcomes.push({ ...alert, status: 'already-sent' });
      continue;
    }
    if (!publish) {
      await markers.markSent(alert, '', now);
      outcomes.push({ ...alert, status: 'summary-only' });
      continue;
    }
    try {
      const { messageId } = await publish(alertNotification(alert));
      await markers.markSent(alert, messageId, now);
      outcomes.push({ ...alert, status: 'sent', messageId });
    } catch (error) {
      await markers.release(alert, now);
      throw error;
    }
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
