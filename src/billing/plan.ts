import { createHash } from 'node:crypto';
import type { Customer, BillingConfig } from '../config/load.js';
import type { CostSnapshot, CustomerCosts } from '../costs/types.js';
import { formatMoney, fromMinorUnits, toMinorUnits, type Micros } from '../money.js';
import { isoDate, periodLabel, type BillingPeriod } from '../period.js';
import { countsTowardsOverage } from '../records/schema.js';
import { customerCharge } from './charge.js';
import { allocateLines, type InvoiceField } from './lines.js';
import type { BillingMode, BillingPlan, CustomerPlan, LedgerEntry, LedgerEntryKind, LedgerState, OverageBasis, PlannedAction } from './types.js';

/**
 * The rounding rule, in one place: cost to date (exact micros) -> markup, rounded half away from zero to the micro
 * -> overage = max(0, cost with markup - allowance) -> rounded ONCE to the currency's minor unit, half away from
 * zero. Each run bills that rounded cumulative overage minus what the ledger says was billed, so the invoices of a
 * period always add up to the rounded final overage: no cent drifts however many runs there are.
 */
export function overageBasis(customer: Customer, costs: CustomerCosts): OverageBasis {
  const costWithMarkup = customerCharge(costs.cost, customer.markupPercent);
  const overage = Math.max(0, costWithMarkup - customer.allowance);
  return {
    cost: costs.cost,
    markupPercent: customer.markupPercent,
    costWithMarkup,
    allowance: customer.allowance,
    overage,
    overageMinor: toMinorUnits(overage, customer.currency),
    topServices: costs.services.slice(0, 3).map((line) => line.service),
  };
}

export function alreadyBilledMinor(entries: readonly LedgerEntry[]): number {
  return entries.filter((entry) => countsTowardsOverage(entry.kind)).reduce((total, entry) => total + entry.amountMinor, 0);
}

/** The day a period's true-up may run: `trueUpDay` of the next month, when Cost Explorer data has settled. */
export function trueUpOpensOn(period: BillingPeriod, trueUpDay: number): string {
  return `${period.endExclusive.slice(0, 8)}${String(trueUpDay).padStart(2, '0')}`;
}

/** "acme/2026-11/overage-2026-11-15": the ledger entry's name in Stripe metadata and idempotency keys. */
export function ledgerEntryRef(entry: Pick<LedgerEntry, 'customerId' | 'period' | 'entryId'>): string {
  return `${entry.customerId}/${entry.period}/${entry.entryId}`;
}

export interface PlanRequest {
  readonly mode: BillingMode;
  readonly period: BillingPeriod;
  readonly now: Date;
  readonly billing: BillingConfig['billing'];
  /** The cost check's window start; day i of `daily` is this date plus i days. */
  readonly windowStart: string;
  readonly fixedCharge?: { readonly amount: Micros; readonly description: string };
}

export function planBilling(
  customers: readonly Customer[],
  snapshot: CostSnapshot | undefined,
  ledger: ReadonlyMap<string, LedgerState>,
  request: PlanRequest,
): BillingPlan {
  const costsById = new Map(snapshot?.customers.map((costs) => [costs.customerId, costs]));
  return {
    mode: request.mode,
    period: request.period.id,
    generatedAt: request.now.toISOString(),
    customers: customers.map((customer) => {
      const state = ledger.get(customer.id);
      const mismatch = currencyMismatch(customer, snapshot);
      if (mismatch) return unbillable(customer, state, mismatch);
      return planCustomer(customer, costsById.get(customer.id), state?.entries ?? [], request, state?.version ?? 0);
    }),
  };
}

/**
 * Cost Explorer amounts are in its cost unit (USD for most accounts) and are never converted: a customer billed in
 * another currency would be charged the same numbers in the wrong money.
 */
function currencyMismatch(customer: Customer, snapshot: CostSnapshot | undefined): string | undefined {
  const unit = snapshot?.costUnit;
  if (unit === undefined || customer.currency.toUpperCase() === unit) return undefined;
  return `costs are reported in ${unit}; customer ${customer.id} is billed in ${customer.currency}; set its currency to ${unit.toLowerCase()} — no conversion is done`;
}

function unbillable(customer: Customer, state: LedgerState | undefined, failure: string): CustomerPlan {
  const entries = state?.entries ?? [];
  return {
    customerId: customer.id,
    name: customer.name,
    stripeCustomerId: customer.stripeCustomerId,
    currency: customer.currency,
    billingMode: customer.mode,
    basis: undefined,
    alreadyBilledMinor: alreadyBilledMinor(entries),
    ledgerVersion: state?.version ?? 0,
    amountNowMinor: 0,
    resume: [],
    actions: [],
    note: `not billed: ${failure}`,
    failure,
  };
}

export function planCustomer(
  customer: Customer,
  costs: CustomerCosts | undefined,
  entries: readonly LedgerEntry[],
  request: PlanRequest,
  ledgerVersion = 0,
): CustomerPlan {
  const pending = entries.filter((entry) => entry.status === 'pending');
  const resume = pending.map((entry) => plannedAction(customer, entry));
  const billed = alreadyBilledMinor(entries);
  const base = {
    customerId: customer.id,
    name: customer.name,
    stripeCustomerId: customer.stripeCustomerId,
    currency: customer.currency,
    billingMode: customer.mode,
    alreadyBilledMinor: billed,
    ledgerVersion,
    resume,
  };
  const resumedMinor = pending.reduce((total, entry) => total + entry.amountMinor, 0);

  if (request.mode === 'fixed-amount') {
    const { entry: fixed, taken } = fixedChargeEntry(customer, entries, request);
    const actions = taken ? [] : [plannedAction(customer, fixed)];
    const note = taken
      ? `this charge (same amount and description) is already in the ledger as ${fixed.entryId}`
      : `fixed charge of ${formatMinor(fixed.amountMinor, customer.currency)}`;
    return { ...base, basis: undefined, amountNowMinor: resumedMinor + fixed.amountMinor * actions.length, actions, note };
  }

  if (!costs) {
    return { ...base, basis: undefined, amountNowMinor: resumedMinor, actions: [], note: 'no costs for this customer in the cost report: nothing billed' };
  }
  const basis = overageBasis(customer, costs);
  const ledger = { entries, billed };
  const decision =
    request.mode === 'true-up'
      ? planTrueUp(customer, costs, basis, ledger, request)
      : customer.mode === 'meter'
        ? planMeterDays(customer, costs, basis, ledger, request)
        : planDailyInvoice(customer, costs, basis, ledger, request);
  const newMinor = decision.actions.reduce((total, action) => total + action.entry.amountMinor, 0);
  return { ...base, basis, amountNowMinor: resumedMinor + newMinor, actions: decision.actions, note: decision.note };
}

/** The customer's ledger entries and what they add up to (alreadyBilledMinor), computed once per plan. */
interface LedgerView {
  readonly entries: readonly LedgerEntry[];
  readonly billed: number;
}

interface Decision {
  readonly actions: PlannedAction[];
  readonly note: string;
}

function planDailyInvoice(customer: Customer, costs: CustomerCosts, basis: OverageBasis, { entries, billed }: LedgerView, request: PlanRequest): Decision {
  if (entries.some((entry) => entry.entryId === 'true-up')) return { actions: [], note: 'the period is closed by its true-up' };
  const difference = basis.overageMinor - billed;
  const minimum = toMinorUnits(request.billing.minimumInvoiceAmount, customer.currency);
  const entryId = `overage-${isoDate(request.now)}`;
  if (entries.some((entry) => entry.entryId === entryId)) return { actions: [], note: `already billed today (${entryId}); the next run bills any change` };
  if (basis.overage === 0) return { actions: [], note: 'within the allowance' };
  if (difference <= 0) return { actions: [], note: 'overage already billed in full; any decrease is credited at the true-up' };
  if (difference < minimum) {
    return {
      actions: [],
      note: `${formatMinor(difference, customer.currency)} is below the minimum invoice amount of ${formatMinor(minimum, customer.currency)}; it waits for a later run`,
    };
  }
  const scope = `to ${isoDate(request.now)}`;
  const entry = newEntry(
    customer,
    request,
    entryId,
    'overage',
    difference,
    overageLine(basis, request, scope),
    itemized(customer, costs, basis, request, difference, billed, scope),
  );
  const note = billed === 0 ? 'overage above the allowance' : `overage above the allowance, less ${formatMinor(billed, customer.currency)} already billed`;
  return { actions: [plannedAction(customer, entry)], note };
}

function planTrueUp(customer: Customer, costs: CustomerCosts, basis: OverageBasis, { entries, billed }: LedgerView, request: PlanRequest): Decision {
  if (entries.some((entry) => entry.entryId === 'true-up')) return { actions: [], note: 'true-up already done for this period' };
  const difference = basis.overageMinor - billed;
  if (difference === 0) return closeWithoutBilling(customer, request, 'final overage equals what was billed: the period is closed with nothing to bill');
  if (difference < 0) {
    const credit = -difference;
    const description = `Credit: final AWS usage for ${periodLabel(request.period.id)} was ${formatMinor(credit, customer.currency)} below what was billed`;
    const entry = newEntry(customer, request, 'true-up', 'credit', difference, description);
    return {
      actions: [plannedAction(customer, entry)],
      note: `final overage is below what was billed: ${formatMinor(credit, customer.currency)} credited to the customer's balance`,
    };
  }
  const minimum = toMinorUnits(request.billing.minimumInvoiceAmount, customer.currency);
  if (customer.mode === 'invoice' && difference < minimum) {
    return closeWithoutBilling(
      customer,
      request,
      `final difference of ${formatMinor(difference, customer.currency)} is below the minimum invoice amount and is waived; the period is closed`,
    );
  }
  const scope = 'final true-up';
  const entry = newEntry(
    customer,
    request,
    'true-up',
    'true-up',
    difference,
    overageLine(basis, request, scope),
    itemized(customer, costs, basis, request, difference, billed, scope),
  );
  return { actions: [plannedAction(customer, entry)], note: 'final overage above what was billed during the month' };
}

/**
 * A true-up with nothing to bill still writes its `true-up` entry (amount 0, no Stripe call): the period is closed,
 * and later true-up runs see every customer settled without querying Cost Explorer again.
 */
function closeWithoutBilling(customer: Customer, request: PlanRequest, note: string): Decision {
  const entry = newEntry(customer, request, 'true-up', 'true-up', 0, `True-up of ${periodLabel(request.period.id)}: nothing to bill`);
  return { actions: [{ kind: 'close', entry }], note };
}

/**
 * Meter mode reports each complete day's increase of the rounded cumulative overage, so the events of a period add
 * up to the same amount an invoice would have had. A day already in the ledger is never reported again.
 */
function planMeterDays(customer: Customer, costs: CustomerCosts, basis: OverageBasis, { entries, billed }: LedgerView, request: PlanRequest): Decision {
  if (entries.some((entry) => entry.entryId === 'true-up')) return { actions: [], note: 'the period is closed by its true-up' };
  const reportedDays = new Set(entries.filter((entry) => entry.kind === 'meter').map((entry) => entry.entryId));
  let reported = billed;
  let cumulative: Micros = 0;
  const actions: PlannedAction[] = [];
  costs.daily.forEach((amount, index) => {
    cumulative += amount;
    const date = addDays(request.windowStart, index);
    const entryId = `meter-${date}`;
    if (reportedDays.has(entryId)) return;
    const dayBasis = overageBasis(customer, { ...costs, cost: cumulative });
    const increase = dayBasis.overageMinor - reported;
    if (increase <= 0) return;
    reported += increase;
    actions.push(plannedAction(customer, newEntry(customer, request, entryId, 'meter', increase, `AWS usage above the allowance on ${date}`)));
  });
  const note =
    actions.length > 0
      ? "each day's increase of the overage as a meter event"
      : basis.overage === 0
        ? 'within the allowance'
        : 'every day with an increase is already reported';
  return { actions, note };
}

/** The fixed charge's entry: the one already in the ledger (`taken`), or a new one. */
function fixedChargeEntry(customer: Customer, entries: readonly LedgerEntry[], request: PlanRequest): { entry: LedgerEntry; taken: boolean } {
  const charge = request.fixedCharge;
  if (!charge) throw new Error('fixed-amount billing needs an amount and a description');
  const amountMinor = toMinorUnits(charge.amount, customer.currency);
  // The same amount and description in the same period is the same charge: re-running a manual dispatch bills once.
  const digest = createHash('sha256').update(`${request.period.id}\n${amountMinor}\n${charge.description}`).digest('hex').slice(0, 16);
  const entryId = `fixed-${digest}`;
  const existing = entries.find((entry) => entry.entryId === entryId);
  return existing ? { entry: existing, taken: true } : { entry: newEntry(customer, request, entryId, 'fixed', amountMinor, charge.description), taken: false };
}

function newEntry(
  customer: Customer,
  request: PlanRequest,
  entryId: string,
  kind: LedgerEntryKind,
  amountMinor: number,
  description: string,
  invoice: Pick<LedgerEntry, 'lines' | 'invoiceFields'> = {},
): LedgerEntry {
  const base: LedgerEntry = {
    ...invoice,
    customerId: customer.id,
    period: request.period.id,
    entryId,
    kind,
    amountMinor,
    currency: customer.currency,
    stripeCustomerId: customer.stripeCustomerId,
    description,
    status: 'pending',
    reservedAt: request.now.toISOString(),
  };
  if (kind !== 'meter' && !(kind === 'true-up' && customer.mode === 'meter')) return base;
  return { ...base, meterIdentifier: `${customer.id}:${request.period.id}:${entryId}`, meterTimestamp: meterTimestamp(entryId, request) };
}

/** Noon of the reported day, or for a true-up the last second of the period (Stripe accepts the last 35 days). */
function meterTimestamp(entryId: string, request: PlanRequest): number {
  const nowSeconds = Math.floor(request.now.getTime() / 1000);
  const at = entryId.startsWith('meter-')
    ? Date.parse(`${entryId.slice('meter-'.length)}T12:00:00Z`) / 1000
    : Date.parse(request.period.endExclusive) / 1000 - 1;
  return Math.min(at, nowSeconds);
}

function plannedAction(customer: Customer, entry: LedgerEntry): PlannedAction {
  if (entry.amountMinor === 0) return { kind: 'close', entry };
  if (entry.kind === 'credit') return { kind: 'credit', entry };
  if (entry.meterIdentifier !== undefined) return { kind: 'meter', entry, eventName: customer.meterEventName ?? '' };
  return { kind: 'invoice', entry };
}

function overageLine(basis: OverageBasis, request: PlanRequest, scope: string): string {
  const services = basis.topServices.length > 0 ? ` (largest: ${basis.topServices.join(', ')})` : '';
  return `AWS usage above the allowance, ${periodLabel(request.period.id)}, ${scope}${services}`;
}

/**
 * An invoiced overage's lines by AWS service and its custom fields, from the cost report the entry is planned from.
 * They are stored in the ledger entry, so a resumed run sends Stripe the same invoice whatever the costs are by then.
 */
function itemized(
  customer: Customer,
  costs: CustomerCosts,
  basis: OverageBasis,
  request: PlanRequest,
  amountMinor: number,
  billedMinor: number,
  scope: string,
): Pick<LedgerEntry, 'lines' | 'invoiceFields'> {
  if (customer.mode !== 'invoice' || amountMinor <= 0) return {};
  const serviceCharges = costs.services.map((line) => ({ service: line.service, amount: customerCharge(line.amount, customer.markupPercent) }));
  return {
    lines: allocateLines(amountMinor, serviceCharges, request.billing.invoiceServiceLines, 'AWS usage above the allowance'),
    invoiceFields: overageFields(customer, basis, request, billedMinor, scope),
  };
}

/** The figures behind an overage invoice: overage = charge − allowance, this invoice = overage − billed earlier. */
function overageFields(customer: Customer, basis: OverageBasis, request: PlanRequest, billedMinor: number, scope: string): InvoiceField[] {
  const money = (amount: Micros) => formatMoney(amount, customer.currency);
  return [
    { name: 'Period', value: `${periodLabel(request.period.id)}, ${scope}` },
    { name: 'Monthly allowance', value: money(basis.allowance) },
    {
      name: 'AWS cost with markup',
      value: `${money(basis.costWithMarkup)} (AWS cost ${money(basis.cost)} ${basis.markupPercent < 0 ? '−' : '+'} ${Math.abs(basis.markupPercent)}% markup)`,
    },
    { name: 'Billed earlier this period', value: formatMinor(billedMinor, customer.currency) },
  ];
}

export function formatMinor(amountMinor: number, currency: string): string {
  return formatMoney(fromMinorUnits(amountMinor, currency), currency);
}

function addDays(date: string, days: number): string {
  return isoDate(new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000));
}
