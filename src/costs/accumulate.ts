import { parseAmount, type Micros } from '../money.js';
import { daysBetween } from '../period.js';

/** Per key (customer dimension value): the window's total, per service, and per day, in micros. */
export interface KeyCosts {
  /** The sum of the services: one figure everywhere the key's cost is compared or billed. */
  cost: Micros;
  readonly services: Map<string, Micros>;
  readonly daily: Micros[];
}

/**
 * Streams Cost Explorer groups into per-key sums without keeping the rows: the window's per-service totals set the
 * cost, the daily totals only spread it over the days. Memory grows with keys x (services + days + lookback days).
 */
export class CostAccumulator {
  readonly byKey = new Map<string, KeyCosts>();
  /**
   * Per key, the daily totals of the `lookbackDays` days just before the window, oldest first: a baseline for the
   * anomaly detector, kept apart so that they never reach a cost, total, forecast, unit or `estimated` flag.
   */
  readonly lookbackByKey = new Map<string, Micros[]>();
  readonly units = new Set<string>();
  /** One copy of each service name: every group's name is a new string, held by each key's map. */
  private readonly serviceNames = new Map<string, string>();
  estimated = false;
  readonly lookbackDays: number;
  private readonly days: number;
  private readonly startMs: number;

  constructor(
    readonly window: { start: string; endExclusive: string },
    lookbackStart: string = window.start,
  ) {
    this.days = daysBetween(window.start, window.endExclusive);
    this.lookbackDays = Math.max(0, daysBetween(lookbackStart, window.start));
    this.startMs = Date.parse(window.start);
  }

  /** A period of an answer is marked Estimated; the lookback days before the window do not count. */
  markEstimated(periodStart: string): void {
    if (periodStart >= this.window.start) this.estimated = true;
  }

  /** One group of the MONTHLY query: a key's total for one service over the window. */
  addService(key: string, service: string, amount: string, unit: string): void {
    const micros = this.parse(amount, unit);
    if (micros === 0) return;
    const costs = this.costsOf(key);
    const name = this.serviceName(service);
    costs.cost += micros;
    costs.services.set(name, (costs.services.get(name) ?? 0) + micros);
  }

  /**
   * One group of the DAILY query: a key's total for one day. A lookback day goes to `lookbackByKey`; any other day
   * outside the window is ignored.
   */
  addDay(key: string, date: string, amount: string, unit: string): void {
    const day = Math.round((Date.parse(date) - this.startMs) / 86_400_000);
    if (day < 0) return this.addLookbackDay(key, this.lookbackDays + day, amount);
    if (day >= this.days) return;
    const micros = this.parse(amount, unit);
    if (micros === 0) return;
    const costs = this.costsOf(key);
    costs.daily[day] = (costs.daily[day] ?? 0) + micros;
  }

  private addLookbackDay(key: string, index: number, amount: string): void {
    if (index < 0) return;
    const micros = parseCostAmount(amount);
    if (micros === 0) return;
    let lookback = this.lookbackByKey.get(key);
    if (!lookback) {
      lookback = new Array<number>(this.lookbackDays).fill(0);
      this.lookbackByKey.set(key, lookback);
    }
    lookback[index] = (lookback[index] ?? 0) + micros;
  }

  private serviceName(service: string): string {
    const known = this.serviceNames.get(service);
    if (known !== undefined) return known;
    this.serviceNames.set(service, service);
    return service;
  }

  private parse(amount: string, unit: string): Micros {
    if (unit) this.units.add(unit);
    return parseCostAmount(amount);
  }

  private costsOf(key: string): KeyCosts {
    let costs = this.byKey.get(key);
    if (!costs) {
      costs = { cost: 0, services: new Map(), daily: new Array<number>(this.days).fill(0) };
      this.byKey.set(key, costs);
    }
    return costs;
  }
}

const ZERO = 48;
const DOT = 46;
const MINUS = 45;

/**
 * `parseAmount` without a regular expression or BigInt for the plain amounts Cost Explorer sends ("12.3456789012",
 * "-0.5"): the same micros, half away from zero at the 6th decimal. Anything else (signs, spaces, huge values,
 * malformed text) goes to `parseAmount`, which also reports the errors.
 */
export function parseCostAmount(text: string): Micros {
  const length = text.length;
  let i = text.charCodeAt(0) === MINUS ? 1 : 0;
  const negative = i === 1;
  let whole = 0;
  let digits = 0;
  for (; i < length; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) break;
    whole = whole * 10 + digit;
    digits++;
  }
  if (digits === 0 || digits > 9) return parseAmount(text);
  let fraction = 0;
  let roundUp = 0;
  if (i < length) {
    if (text.charCodeAt(i) !== DOT || i === length - 1) return parseAmount(text);
    let place = 0;
    for (i++; i < length; i++, place++) {
      const digit = text.charCodeAt(i) - ZERO;
      if (digit < 0 || digit > 9) return parseAmount(text);
      if (place < 6) fraction = fraction * 10 + digit;
      else if (place === 6) roundUp = digit >= 5 ? 1 : 0;
    }
    for (; place < 6; place++) fraction *= 10;
  }
  const magnitude = whole * 1_000_000 + fraction + roundUp;
  return negative && magnitude !== 0 ? -magnitude : magnitude;
}
