import type { CostSnapshot, CustomerCosts } from '../costs/types.js';
import { scale, type Micros } from '../money.js';
import { daysBetween } from '../period.js';

/** `anomalies` in billing.config.yaml. */
export interface AnomalySettings {
  readonly enabled: boolean;
  /** The day must cost more than ratio × the usual cost... */
  readonly ratio: number;
  /** ...and more than the usual cost plus this absolute amount (micros of the customer's currency). */
  readonly minimum: Micros;
  /** How many days before the judged day make up its baseline. */
  readonly lookbackDays: number;
}

/** A day on which one customer spent far more than usual. */
export interface CostAnomaly {
  readonly period: string;
  readonly customerId: string;
  readonly customerName: string;
  readonly currency: string;
  /** The judged day, "2026-11-14". */
  readonly day: string;
  /** The weekday-aware median of the lookback days. */
  readonly expected: Micros;
  readonly actual: Micros;
  /** The customer's largest services of the period to date (the daily data has no per-service split). */
  readonly largestServices: ReadonlyArray<{ readonly service: string; readonly amount: Micros }>;
  readonly estimated: boolean;
}

export interface AnomalyScan {
  /** The day that was judged; undefined when nothing was (detection off, a closed month, no complete day). */
  readonly day?: string;
  readonly anomalies: readonly CostAnomaly[];
}

/** Costs of consecutive days, oldest first, starting on `start`. */
export interface DailySeries {
  readonly start: string;
  readonly amounts: readonly Micros[];
}

/** Fewer comparable days than this and the baseline is not trusted: the day is not judged. */
export const MIN_BASELINE_DAYS = 3;
const LARGEST_SERVICES = 3;
const DAY_MS = 86_400_000;

/**
 * Judges the last complete day of a running month for every customer. A closed month is not judged: its last day
 * is old news by then. Pure: no request of any kind, only the snapshot's daily data, with each customer's
 * `lookbackDaily` (the days before the window, when the cost check read them) in front of the month's days.
 */
export function detectAnomalies(snapshot: CostSnapshot, settings: AnomalySettings): AnomalyScan {
  const { window } = snapshot;
  if (!settings.enabled || window.complete || window.start >= window.endExclusive) return { anomalies: [] };
  const day = addDays(window.endExclusive, -1);
  const calendars = new Map<number, Calendar>();
  const calendarFor = (lookbackDays: number) => {
    let calendar = calendars.get(lookbackDays);
    if (!calendar) {
      calendar = calendarOf(addDays(window.start, -lookbackDays), lookbackDays + daysBetween(window.start, window.endExclusive));
      calendars.set(lookbackDays, calendar);
    }
    return calendar;
  };
  const anomalies = snapshot.customers
    .map((customer) => judgeCustomer(customer, calendarFor(customer.lookbackDaily?.length ?? 0), snapshot, settings))
    .filter((anomaly): anomaly is CostAnomaly => anomaly !== undefined)
    .sort((a, b) => b.actual - b.expected - (a.actual - a.expected) || a.customerId.localeCompare(b.customerId));
  return { day, anomalies };
}

/**
 * The first day the baseline of the window's last day reaches back to, when that is before the window: the days
 * the cost check should also read (early in a month, last month's). Undefined when no day is judged (detection off,
 * a closed month, no complete day, the 1st) or the window already holds the whole baseline.
 */
export function baselineStart(window: CostSnapshot['window'], settings: AnomalySettings): string | undefined {
  if (!settings.enabled || window.complete || window.start >= window.endExclusive) return undefined;
  const day = addDays(window.endExclusive, -1);
  if (isFirstOfMonth(day)) return undefined;
  const start = addDays(day, -settings.lookbackDays);
  return start < window.start ? start : undefined;
}

function judgeCustomer(customer: CustomerCosts, calendar: Calendar, snapshot: CostSnapshot, settings: AnomalySettings): CostAnomaly | undefined {
  const amounts = customer.lookbackDaily ? [...customer.lookbackDaily, ...customer.daily] : customer.daily;
  const verdict = judge(amounts, calendar, settings);
  if (!verdict) return undefined;
  return {
    period: snapshot.period,
    customerId: customer.customerId,
    customerName: customer.name,
    currency: customer.currency,
    day: verdict.day,
    expected: verdict.expected,
    actual: verdict.actual,
    largestServices: customer.services.slice(0, LARGEST_SERVICES),
    estimated: snapshot.estimated,
  };
}

/** The series' last day when it is unusual, with what was expected; undefined when it is not (or cannot be judged). */
export function judgeLastDay(series: DailySeries, settings: AnomalySettings): { day: string; expected: Micros; actual: Micros } | undefined {
  return judge(series.amounts, calendarOf(series.start, series.amounts.length), settings);
}

/** The days of a window, computed once for all customers (they share it). */
interface Calendar {
  readonly dates: readonly string[];
  readonly weekdays: readonly number[];
}

function calendarOf(start: string, length: number): Calendar {
  const dates = Array.from({ length }, (_, i) => addDays(start, i));
  return { dates, weekdays: dates.map(weekdayOf) };
}

function judge(amounts: readonly Micros[], calendar: Calendar, settings: AnomalySettings): { day: string; expected: Micros; actual: Micros } | undefined {
  const last = amounts.length - 1;
  const day = calendar.dates[last];
  // Monthly charges (support plans, reservations, hosted zones) land on the 1st: it is neither judged nor a baseline.
  if (day === undefined || isFirstOfMonth(day)) return undefined;
  const sameWeekday: Micros[] = [];
  const sameKind: Micros[] = [];
  const weekday = calendar.weekdays[last] ?? 0;
  for (let i = Math.max(0, last - settings.lookbackDays); i < last; i++) {
    if (isFirstOfMonth(calendar.dates[i] ?? '')) continue;
    const other = calendar.weekdays[i] ?? 0;
    if (other === weekday) sameWeekday.push(amounts[i] ?? 0);
    if (isWeekend(other) === isWeekend(weekday)) sameKind.push(amounts[i] ?? 0);
  }
  const expected = usualCost(sameWeekday, sameKind);
  const actual = amounts[last] ?? 0;
  if (expected === undefined || !isUnusual(actual, expected, settings)) return undefined;
  return { day, expected, actual };
}

/**
 * The usual cost of `day`: the median of the same weekday in the history when there are enough of them, else the
 * higher of the same kind of day's (weekday or weekend) and the few same weekdays', so weekly rhythms are compared
 * with themselves.
 */
export function expectedCost(history: ReadonlyArray<{ readonly date: string; readonly amount: Micros }>, day: string): Micros | undefined {
  const weekday = weekdayOf(day);
  return usualCost(
    history.filter((d) => weekdayOf(d.date) === weekday).map((d) => d.amount),
    history.filter((d) => isWeekend(weekdayOf(d.date)) === isWeekend(weekday)).map((d) => d.amount),
  );
}

function usualCost(sameWeekday: readonly Micros[], sameKind: readonly Micros[]): Micros | undefined {
  if (sameWeekday.length >= MIN_BASELINE_DAYS) return median(sameWeekday);
  if (sameKind.length < MIN_BASELINE_DAYS) return undefined;
  // The few same weekdays known still count: a busy Monday is compared with last Monday, not with a Tuesday.
  return sameWeekday.length > 0 ? Math.max(median(sameKind), median(sameWeekday)) : median(sameKind);
}

/** Above both ratio × expected and expected + minimum. */
export function isUnusual(actual: Micros, expected: Micros, settings: Pick<AnomalySettings, 'ratio' | 'minimum'>): boolean {
  return actual > scale(expected, Math.round(settings.ratio * 1000), 1000) && actual > expected + settings.minimum;
}

function median(amounts: readonly Micros[]): Micros {
  const sorted = [...amounts].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : Math.round(((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(date) + days * DAY_MS).toISOString().slice(0, 10);
}

function weekdayOf(date: string): number {
  return new Date(Date.parse(date)).getUTCDay();
}

function isWeekend(weekday: number): boolean {
  return weekday === 0 || weekday === 6;
}

function isFirstOfMonth(date: string): boolean {
  return date.endsWith('-01');
}
