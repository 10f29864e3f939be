import { parseAmount, type Micros } from '../money.js';
import { daysBetween } from '../period.js';

/** Per key (customer dimension value): total, per service and per day, summed in micros as pages stream in. */
export interface KeyCosts {
  cost: Micros;
  readonly services: Map<string, Micros>;
  readonly daily: Micros[];
}

/**
 * Streams Cost Explorer groups into per-key sums without keeping the rows: memory grows with
 * keys x (services + days), not with the number of rows read.
 */
export class CostAccumulator {
  readonly byKey = new Map<string, KeyCosts>();
  readonly units = new Set<string>();
  estimated = false;
  private readonly days: number;
  private readonly startMs: number;

  constructor(readonly window: { start: string; endExclusive: string }) {
    this.days = daysBetween(window.start, window.endExclusive);
    this.startMs = Date.parse(window.start);
  }

  add(key: string, service: string, date: string, amount: string, unit: string): void {
    const micros = parseAmount(amount);
    if (unit) this.units.add(unit);
    if (micros === 0) return;
    let costs = this.byKey.get(key);
    if (!costs) {
      costs = { cost: 0, services: new Map(), daily: new Array<number>(this.days).fill(0) };
      this.byKey.set(key, costs);
    }
    costs.cost += micros;
    costs.services.set(service, (costs.services.get(service) ?? 0) + micros);
    const day = Math.round((Date.parse(date) - this.startMs) / 86_400_000);
    if (day >= 0 && day < this.days) costs.daily[day] = (costs.daily[day] ?? 0) + micros;
  }
}
