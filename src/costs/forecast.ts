import { scale, sum, type Micros } from '../money.js';

/** Days of recent spend the run-rate averages over: a week smooths weekday/weekend swings. */
export const RUN_RATE_DAYS = 7;

/**
 * Month-end projection from the daily run-rate: cost so far plus the average of the last (up to) seven complete
 * days for each day left. No request is made. A complete period's forecast is its cost.
 */
export function runRateForecast(spent: Micros, daily: readonly Micros[], daysInMonth: number): Micros {
  const remaining = daysInMonth - daily.length;
  if (remaining <= 0 || daily.length === 0) return spent;
  const recent = daily.slice(-RUN_RATE_DAYS);
  return spent + scale(sum(recent), remaining, recent.length);
}
