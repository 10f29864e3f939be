import type { Customer } from '../config/load.js';
import type { CostSnapshot, CustomerCosts } from '../costs/types.js';
import { applyMarkup, scale, type Micros } from '../money.js';

/**
 * The customer's charge: AWS cost × (1 + markup), in micros, with the project's one rounding rule. It is the one
 * figure compared with an allowance anywhere: summary, cost report, alerts, `over-allowance` and the billing plan.
 */
export function customerCharge(cost: Micros, markupPercent: number): Micros {
  return applyMarkup(cost, markupPercent);
}

/** Where a charge stands against its allowance; `over` is exactly when the billing plan has an overage. */
export type AllowanceStatus = 'over' | 'forecast-over' | 'within';

export function allowanceStatus(charge: Micros, forecastCharge: Micros, allowance: Micros): AllowanceStatus {
  if (charge > allowance) return 'over';
  return forecastCharge > allowance ? 'forecast-over' : 'within';
}

/** Percent of a limit with one decimal (80.1), or null for a limit of 0. */
export function percentOf(amount: Micros, limit: Micros): number | null {
  return limit > 0 ? scale(amount, 1000, limit) / 10 : null;
}

/** A customer's month as it compares with the allowance: cost and charge side by side, to date and forecast. */
export interface CustomerCharge {
  readonly customerId: string;
  readonly markupPercent: number;
  readonly cost: Micros;
  readonly charge: Micros;
  readonly forecastCost: Micros;
  readonly forecastCharge: Micros;
  readonly allowance: Micros;
  /** Charge as a percent of the allowance; null for an allowance of 0 (everything is billed). */
  readonly usedPercent: number | null;
  readonly status: AllowanceStatus;
}

export class UnknownCustomerError extends Error {
  override name = 'UnknownCustomerError';
}

export function chargeOf(costs: CustomerCosts, markupPercent: number): CustomerCharge {
  const charge = customerCharge(costs.cost, markupPercent);
  const forecastCharge = customerCharge(costs.forecast, markupPercent);
  return {
    customerId: costs.customerId,
    markupPercent,
    cost: costs.cost,
    charge,
    forecastCost: costs.forecast,
    forecastCharge,
    allowance: costs.allowance,
    usedPercent: percentOf(charge, costs.allowance),
    status: allowanceStatus(charge, forecastCharge, costs.allowance),
  };
}

/** The markup of each configured customer; a customer of a cost report that the config lacks is an error, never 0 %. */
export function markupOf(customers: readonly Pick<Customer, 'id' | 'markupPercent'>[]): (customerId: string) => number {
  const markups = new Map(customers.map((customer) => [customer.id, customer.markupPercent]));
  return (customerId) => {
    const markup = markups.get(customerId);
    if (markup === undefined) {
      throw new UnknownCustomerError(`customer "${customerId}" of the cost report is not in the billing config, so its markup is unknown`);
    }
    return markup;
  };
}

/** Every customer of the snapshot with its charge, in the snapshot's order; the markup comes from the billing config. */
export function customerCharges(snapshot: Pick<CostSnapshot, 'customers'>, customers: readonly Pick<Customer, 'id' | 'markupPercent'>[]): CustomerCharge[] {
  const markup = markupOf(customers);
  return snapshot.customers.map((costs) => chargeOf(costs, markup(costs.customerId)));
}
