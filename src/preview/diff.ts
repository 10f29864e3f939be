import { planBilling, type PlanRequest } from '../billing/plan.js';
import type { CustomerPlan } from '../billing/types.js';
import type { BillingConfig, Customer } from '../config/load.js';
import type { CostSnapshot } from '../costs/types.js';
import type { Micros } from '../money.js';
import { monthPeriod } from '../period.js';

/** What a config makes one customer pay, against one cost report. */
export interface CustomerTerms {
  readonly name: string;
  readonly currency: string;
  readonly allowance: Micros;
  readonly markupPercent: number;
  readonly mode: Customer['mode'];
  readonly match: string | undefined;
  readonly stripeCustomerId: string;
  /** Cost to date with markup; undefined without costs for the customer in the report. */
  readonly charge: Micros | undefined;
  /** The month's forecast charge above the allowance, in minor units: what the month's invoices will add up to. */
  readonly projectedInvoiceMinor: number | undefined;
  /** Why the customer cannot be billed under this config (a currency the costs are not in). */
  readonly failure: string | undefined;
}

export type CustomerChange =
  | { readonly status: 'added'; readonly customerId: string; readonly after: CustomerTerms }
  | { readonly status: 'removed'; readonly customerId: string; readonly before: CustomerTerms }
  | {
      readonly status: 'changed';
      readonly customerId: string;
      readonly before: CustomerTerms;
      readonly after: CustomerTerms;
      readonly fields: readonly TermField[];
    };

export type TermField = keyof Omit<CustomerTerms, 'failure'>;
const TERM_FIELDS: readonly TermField[] = [
  'name',
  'currency',
  'allowance',
  'markupPercent',
  'mode',
  'match',
  'stripeCustomerId',
  'charge',
  'projectedInvoiceMinor',
];

export interface ProjectedTotal {
  readonly currency: string;
  readonly beforeMinor: number;
  readonly afterMinor: number;
}

export interface BillingPreview {
  /** Customers whose terms or figures differ, in the new config's order, then the removed ones. */
  readonly changes: readonly CustomerChange[];
  readonly unchangedCount: number;
  /** Every customer's projected invoices added up per currency, under each config. */
  readonly projectedTotals: readonly ProjectedTotal[];
}

/**
 * The billing plan of the cost report's period under the base config and under the proposed one, with an empty
 * ledger: what each customer's charge and month-end invoice would be, compared customer by customer.
 */
export function previewBilling(base: BillingConfig | undefined, proposed: BillingConfig, snapshot: CostSnapshot | undefined): BillingPreview {
  const before = termsUnder(base, snapshot);
  const after = termsUnder(proposed, snapshot);
  const changes: CustomerChange[] = [];
  let unchangedCount = 0;
  for (const [customerId, terms] of after) {
    const old = before.get(customerId);
    if (!old) {
      changes.push({ status: 'added', customerId, after: terms });
      continue;
    }
    const fields = TERM_FIELDS.filter((field) => old[field] !== terms[field]);
    if (fields.length > 0 || old.failure !== terms.failure) changes.push({ status: 'changed', customerId, before: old, after: terms, fields });
    else unchangedCount += 1;
  }
  for (const [customerId, terms] of before) if (!after.has(customerId)) changes.push({ status: 'removed', customerId, before: terms });
  return { changes, unchangedCount, projectedTotals: projectedTotals(before, after) };
}

function termsUnder(config: BillingConfig | undefined, snapshot: CostSnapshot | undefined): Map<string, CustomerTerms> {
  const terms = new Map<string, CustomerTerms>();
  if (!config) return terms;
  const toDate = plansById(config, snapshot);
  const monthEnd = plansById(config, snapshot && forecastSnapshot(snapshot));
  for (const customer of config.customers) {
    const planToDate = toDate.get(customer.id);
    const planMonthEnd = monthEnd.get(customer.id);
    terms.set(customer.id, {
      name: customer.name,
      currency: customer.currency,
      allowance: customer.allowance,
      markupPercent: customer.markupPercent,
      mode: customer.mode,
      match: customer.match,
      stripeCustomerId: customer.stripeCustomerId,
      charge: planToDate?.basis?.costWithMarkup,
      projectedInvoiceMinor: planMonthEnd?.basis?.overageMinor,
      failure: planToDate?.failure,
    });
  }
  return terms;
}

function plansById(config: BillingConfig, snapshot: CostSnapshot | undefined): Map<string, CustomerPlan> {
  if (!snapshot) return new Map();
  const plan = planBilling(config.customers, snapshot, new Map(), planRequest(config, snapshot));
  return new Map(plan.customers.map((customer) => [customer.customerId, customer]));
}

function planRequest(config: BillingConfig, snapshot: CostSnapshot): PlanRequest {
  const [year, month] = snapshot.period.split('-').map(Number) as [number, number];
  return {
    mode: 'scheduled',
    period: monthPeriod(year, month),
    now: new Date(snapshot.generatedAt),
    billing: config.billing,
    windowStart: snapshot.window.start,
  };
}

/** The same report with each customer's month-end forecast in place of its cost to date. */
function forecastSnapshot(snapshot: CostSnapshot): CostSnapshot {
  return { ...snapshot, customers: snapshot.customers.map((costs) => ({ ...costs, cost: costs.forecast })) };
}

function projectedTotals(before: Map<string, CustomerTerms>, after: Map<string, CustomerTerms>): ProjectedTotal[] {
  const totals = new Map<string, { beforeMinor: number; afterMinor: number }>();
  const add = (terms: Map<string, CustomerTerms>, side: 'beforeMinor' | 'afterMinor') => {
    for (const customer of terms.values()) {
      const total = totals.get(customer.currency) ?? { beforeMinor: 0, afterMinor: 0 };
      total[side] += customer.projectedInvoiceMinor ?? 0;
      totals.set(customer.currency, total);
    }
  };
  add(before, 'beforeMinor');
  add(after, 'afterMinor');
  return [...totals].map(([currency, total]) => ({ currency, ...total }));
}
