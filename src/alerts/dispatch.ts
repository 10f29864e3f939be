import { mapWithConcurrency } from '../concurrency.js';
import type { Notification, Publisher } from '../notifications.js';
import { formatMoney } from '../money.js';
import type { BudgetAlert } from './evaluate.js';

/** Proof that this run holds an alert's marker; only its holder may give it back. */
export interface AlertClaim {
  readonly token: string;
  readonly claimedAt: string;
}

/** An alert published under its claim, to be recorded as sent. */
export interface SentAlert {
  readonly alert: BudgetAlert;
  readonly claim: AlertClaim;
  readonly messageId: string;
}

/** Where "this alert was sent" is remembered, so each level goes out once per period. */
export interface AlertMarkerStore {
  /** Claims the alert with a conditional write; undefined when another run already holds or sent it. */
  claim(alert: BudgetAlert, now: Date): Promise<AlertClaim | undefined>;
  /**
   * Records published alerts as sent, many per request. Unconditional: each went out under its claim, so even over a
   * claim taken over meanwhile (this run was too slow) "sent" is the truth.
   */
  markSent(sent: readonly SentAlert[], now: Date): Promise<void>;
  /** Gives a claim back after a failed publish so the next run tries again. */
  release(alert: BudgetAlert, claim: AlertClaim): Promise<void>;
  wasSent(alert: BudgetAlert): Promise<boolean>;
  /** The alerts of a period already sent, by `alertIdentity`: one paginated read, however many there are. */
  sentInPeriod(period: string): Promise<ReadonlySet<string>>;
}

/** Names one alert within its period: scope, kind and level. */
export function alertIdentity(alert: Pick<BudgetAlert, 'scope' | 'kind' | 'level'>): string {
  return `${alert.scope}#${alert.kind}#${alert.level}`;
}

/** New alerts claimed and published at once; each needs a claim and a publish, in that order. */
export const ALERT_CONCURRENCY = 16;
/**
 * Published alerts recorded as sent in one store write (DynamoDB's BatchWriteItem takes 25). A crash before the write
 * leaves up to this many claims to be taken over once stale, and sent again: the same as a crash between publish and
 * mark-sent, for a few alerts more.
 */
export const SENT_PER_WRITE = 25;

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
 * Publishes each newly crossed level once. The period's sent markers are read first, in one paginated query, so a
 * run with nothing new makes no request per alert; each new alert is claimed and published, a bounded number at a
 * time, and recorded as sent with others in batches. A failed publish does not stop the others; its outcome says
 * `failed` and the caller fails the run after writing its report. Outcomes keep the order of `alerts`.
 */
export async function dispatchAlerts(alerts: readonly BudgetAlert[], options: DispatchOptions): Promise<AlertOutcome[]> {
  const { markers, dryRun } = options;
  const sent = markers ? await sentAlerts(markers, alerts) : new Set<string>();
  const recorder = markers ? sentRecorder(markers, options.now) : undefined;
  const outcomes = await mapWithConcurrency(alerts, ALERT_CONCURRENCY, async (alert): Promise<AlertOutcome> => {
    if (sent.has(`${alert.period}/${alertIdentity(alert)}`)) return { ...alert, status: 'already-sent' };
    if (dryRun) return { ...alert, status: 'would-send' };
    if (!markers || !recorder) return { ...alert, status: 'summary-only' };
    return { ...alert, ...(await claimAndPublish(alert, () => alertNotification(alert), markers, recorder, options)) };
  });
  await recorder?.flush();
  return outcomes;
}

/** Collects published alerts and records them as sent `SENT_PER_WRITE` at a time, as they come. */
export interface SentRecorder {
  add(sent: SentAlert): void;
  /** Records the rest and waits for every write; throws the first that failed. */
  flush(): Promise<void>;
}

export function sentRecorder(markers: AlertMarkerStore, now: Date): SentRecorder {
  let pending: SentAlert[] = [];
  const writes: Array<Promise<void>> = [];
  let failure: { error: unknown } | undefined;
  const write = () => {
    const batch = pending;
    pending = [];
    // Caught at once, so a failed write is not an unhandled rejection while other alerts are still publishing.
    writes.push(markers.markSent(batch, now).catch((error: unknown) => void (failure ??= { error })));
  };
  return {
    add(sent) {
      pending.push(sent);
      if (pending.length >= SENT_PER_WRITE) write();
    },
    async flush() {
      if (pending.length > 0) write();
      await Promise.all(writes);
      if (failure) throw failure.error;
    },
  };
}

async function sentAlerts(markers: AlertMarkerStore, alerts: readonly BudgetAlert[]): Promise<Set<string>> {
  const sent = new Set<string>();
  for (const period of new Set(alerts.map((alert) => alert.period))) {
    for (const identity of await markers.sentInPeriod(period)) sent.add(`${period}/${identity}`);
  }
  return sent;
}

/** What became of one claimed publication: its status, and the message id or the error. */
export type PublishOutcome = Pick<AlertOutcome, 'status' | 'messageId' | 'error'>;

/**
 * Claims `marker`, publishes `notification()` and hands it to `recorder` to be recorded as sent; a failed publish
 * gives the claim back. Budget alerts and cost anomalies share it, each with its own marker and message.
 */
export async function claimAndPublish(
  marker: BudgetAlert,
  notification: () => Notification,
  markers: AlertMarkerStore,
  recorder: SentRecorder,
  { publish, now }: DispatchOptions,
): Promise<PublishOutcome> {
  const claim = await markers.claim(marker, now);
  if (!claim) return { status: 'already-sent' };
  if (!publish) {
    recorder.add({ alert: marker, claim, messageId: '' });
    return { status: 'summary-only' };
  }
  let messageId: string;
  try {
    ({ messageId } = await publish(notification()));
  } catch (error) {
    // If the release fails too, the claim goes stale and a later run takes it over.
    await markers.release(marker, claim).catch(() => undefined);
    return { status: 'failed', error: error instanceof Error ? error.message : String(error) };
  }
  recorder.add({ alert: marker, claim, messageId });
  return { status: 'sent', messageId };
}

export function alertNotification(alert: BudgetAlert): Notification {
  // A customer's alerts compare its charge (cost with markup) with its allowance; the total compares AWS cost.
  const figure = alert.scope === 'TOTAL' ? 'cost' : 'charge';
  const what = alert.kind === 'actual' ? `${figure} to date` : `forecast month-end ${figure}`;
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
