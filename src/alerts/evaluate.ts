import { chargeOf, markupOf, type CustomerCharge } from '../billing/charge.js';
import type { BillingConfig } from '../config/load.js';
import type { CostSnapshot } from '../costs/types.js';
import { scale, type Micros } from '../money.js';

export const TOTAL_SCOPE = 'TOTAL';

/** A budget level that the month's cost (or its forecast) has reached. */
export interface BudgetAlert {
  readonly period: string;
  /** A customer id, or TOTAL for the whole bill against the budget threshold. */
  readonly scope: string;
  readonly scopeName: string;
  readonly kind: 'actual' | 'forecast';
  /** Percent of the limit. */
  readonly level: number;
  /** What is compared with the limit: a customer's charge (cost with markup), or the total AWS cost for TOTAL. */
  readonly amount: Micros;
  readonly limit: Micros;
  readonly currency: string;
  readonly estimated: boolean;
}

/**
 * Every level reached in this snapshot, total first, lowest level first. A customer's levels are percentages of its
 * allowance reached by its charge (cost with markup, what it is billed on); the total's are percentages of the budget
 * threshold reached by the AWS cost. A limit of 0 raises no alerts.
 */
export function crossedLevels(snapshot: CostSnapshot, config: BillingConfig): BudgetAlert[] {
  const levelsById = new Map(config.customers.map((customer) => [customer.id, customer.alertLevels]));
  const markup = markupOf(config.customers);
  const scopes = [
    {
      scope: TOTAL_SCOPE,
      scopeName: 'All customers',
      amount: snapshot.total.cost,
      forecast: snapshot.total.awsForecast ?? snapshot.total.forecast,
      limit: snapshot.total.threshold,
      levels: config.alertLevels,
      currency: snapshot.currency,
    },
    ...snapshot.customers.map((customer) => ({
      ...chargeAndForecast(chargeOf(customer, markup(customer.customerId))),
      scope: customer.customerId,
      scopeName: customer.name,
      limit: customer.allowance,
      levels: levelsById.get(customer.customerId) ?? config.alertLevels,
      currency: customer.currency,
    })),
  ];
  const alerts: BudgetAlert[] = [];
  for (const s of scopes) {
    if (s.limit <= 0) continue;
    const base = { period: snapshot.period, scope: s.scope, scopeName: s.scopeName, limit: s.limit, currency: s.currency, estimated: snapshot.estimated };
    for (const level of s.levels) {
      if (s.amount >= scale(s.limit, Math.round(level * 100), 10_000)) alerts.push({ ...base, kind: 'actual', level, amount: s.amount });
    }
    if (snapshot.window.complete) continue;
    for (const level of config.forecastAlertLevels) {
      if (s.forecast >= scale(s.limit, Math.round(level * 100), 10_000)) alerts.push({ ...base, kind: 'forecast', level, amount: s.forecast });
    }
  }
  return alerts;
}

function chargeAndForecast({ charge, forecastCharge }: CustomerCharge) {
  return { amount: charge, forecast: forecastCharge };
}
