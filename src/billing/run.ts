import type { BillingConfig, Customer } from '../config/load.js';
import { mapWithConcurrency } from '../concurrency.js';
import type { CostSnapshot } from '../costs/types.js';
import { ConfigError, describeError } from '../errors.js';
import { MICROS_PER_UNIT, minorUnitsPerUnit, toDecimalString, type Micros } from '../money.js';
import type { Publisher } from '../notifications.js';
import { isoDate, type BillingPeriod } from '../period.js';
import { BillingCallError } from './errors.js';
import { formatMinor, ledgerEntryRef, planBilling, trueUpOpensOn } from './plan.js';
import { invoiceRecord } from './records.js';
import type {
  BillingMode,
  BillingPlan,
  CustomerPlan,
  LedgerEntry,
  LedgerPort,
  LedgerState,
  LoadCosts,
  MeterDelivery,
  PlannedAction,
  StripeBillingPort,
} from './types.js';

export interface BillingDeps {
  readonly loadCosts: LoadCosts;
  readonly ledger: LedgerPort;
  /** Absent in a dry run, which never talks to Stripe. */
  readonly stripe: StripeBillingPort | undefined;
  readonly publish?: Publisher;
  readonly warn?: (message: string) => void;
}

export interface BillingRequest {
  readonly mode: BillingMode;
  readonly period: BillingPeriod;
  readonly now: Date;
  /** Bill only this customer (required for fixed-amount). */
  readonly customerId?: string;
  readonly fixedCharge?: { readonly amount: Micros; readonly description: string };
  readonly dryRun: boolean;
  /**
   * Customers billed at the same time; by default enough to keep the Stripe adapter's rate busy (its limiter
   * enforces the rate, whatever the concurrency).
   */
  readonly concurrency?: number;
}

export interface BilledInvoice {
  readonly customerId: string;
  readonly name: string;
  readonly entryId: string;
  readonly invoiceId: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly status: string;
  readonly dashboardUrl: string;
  readonly resumed: boolean;
}

export interface BilledCredit {
  readonly customerId: string;
  readonly entryId: string;
  readonly creditId: string;
  /** Positive: the amount credited. */
  readonly amountMinor: number;
  readonly currency: string;
}

export interface CustomerFailure {
  readonly customerId: string;
  readonly name: string;
  readonly message: string;
  /** The ledger entry that failed, when one did (it stays pending unless `released`). */
  readonly entryId?: string;
  /** The entry was deleted because nothing reached Stripe: the next run plans it again. */
  readonly released?: boolean;
  /** When retrying can succeed (ISO time): before it, Stripe replays a stored error for the entry's key. */
  readonly retryAfter?: string;
}

/** A meter entry settled by another route than a plain send (see MeterDelivery). */
export interface MeterResolution {
  readonly customerId: string;
  readonly entryId: string;
  readonly delivery: Exclude<MeterDelivery, 'sent'>;
}

export interface BillingOutcome {
  readonly plan: BillingPlan;
  readonly dryRun: boolean;
  readonly estimated: boolean;
  /** Why a run did nothing at all (a true-up before its day). */
  readonly notice: string | undefined;
  readonly invoices: readonly BilledInvoice[];
  readonly credits: readonly BilledCredit[];
  readonly meterEvents: number;
  /** Meter entries completed from what Stripe already held, or sent after checking its summary. */
  readonly meterResolutions?: readonly MeterResolution[];
  /**
   * Entries this run could not reserve because another run changed the customer's ledger after this one read it:
   * that run billed the overage, the next run plans on what it did.
   */
  readonly heldElsewhere: readonly string[];
  readonly failures: readonly CustomerFailure[];
}

const NOTHING_SETTLED = { invoices: [], credits: [], meterEvents: 0, meterResolutions: [], heldElsewhere: [], failures: [] } as const;

/**
 * A customer's Stripe calls run one after another, so at a latency of L seconds a rate of R requests per second needs
 * R x L customers in flight: a second's worth covers latencies up to 1 s. At least 8 (the DynamoDB reads and writes).
 */
function concurrencyFor(stripe: StripeBillingPort | undefined): number {
  const rate = stripe?.requestsPerSecond;
  return rate !== undefined && Number.isFinite(rate) ? Math.max(8, Math.ceil(rate)) : 8;
}

/** Plan, then act: the plan is computed from costs and the ledger; a real run then settles it customer by customer. */
export async function runBilling(deps: BillingDeps, config: BillingConfig, request: BillingRequest): Promise<BillingOutcome> {
  const customers = selectCustomers(config, request);
  const opens = trueUpOpensOn(request.period, config.billing.trueUpDay);
  if (request.mode === 'true-up' && isoDate(request.now) < opens) {
    // A daily schedule can run the true-up step every day: before its day it is a no-op that says when it opens.
    return nothingDone(
      request,
      `The true-up of ${request.period.id} opens on ${opens} (billing.trueUpDay), when Cost Explorer data has settled: nothing was billed.`,
    );
  }
  const concurrency = request.concurrency ?? concurrencyFor(deps.stripe);
  const read = await mapWithConcurrency(customers, concurrency, (customer) => deps.ledger.read(customer.id, request.period.id));
  if (request.mode === 'true-up' && read.every((state) => state.entries.some((entry) => entry.entryId === 'true-up' && entry.status === 'completed'))) {
    // Settled customers need no Cost Explorer query (each costs $0.01) on the days after trueUpDay.
    return nothingDone(request, `The true-up of ${request.period.id} is done for every customer: nothing to bill, no costs loaded.`);
  }
  const snapshot = request.mode === 'fixed-amount' ? undefined : checkSnapshot(await deps.loadCosts(request.period), request);
  if (request.mode === 'true-up' && snapshot?.estimated) {
    return nothingDone(
      request,
      `The cost report for ${request.period.id} still holds Cost Explorer estimates: the true-up waits until the data is final, so that it settles once. Nothing was billed.`,
    );
  }
  const ledgers = request.mode === 'true-up' ? await mapWithConcurrency(read, concurrency, (state) => withoutVoidedInvoices(deps.ledger, state)) : read;
  const plan = planBilling(customers, snapshot, new Map(customers.map((customer, index) => [customer.id, ledgers[index] ?? { entries: [], version: 0 }])), {
    mode: request.mode,
    period: request.period,
    now: request.now,
    billing: config.billing,
    windowStart: snapshot?.window.start ?? request.period.start,
    ...(request.fixedCharge ? { fixedCharge: request.fixedCharge } : {}),
  });
  const planFailures = plan.customers.flatMap((customer) =>
    customer.failure ? [{ customerId: customer.customerId, name: customer.name, message: customer.failure }] : [],
  );
  const outcome = { plan, dryRun: request.dryRun, estimated: snapshot?.estimated ?? false, notice: undefined };
  if (request.dryRun) return { ...outcome, ...NOTHING_SETTLED, failures: planFailures };
  const stripe = deps.stripe;
  if (!stripe) throw new Error('a billing run that is not a dry run needs the Stripe adapter');

  const settler = new Settler(deps, stripe, config, request.now);
  await mapWithConcurrency(plan.customers, concurrency, (customerPlan) => settler.settleCustomer(customerPlan));
  const settled = settler.results();
  return { ...outcome, ...settled, failures: [...planFailures, ...settled.failures] };
}

function nothingDone(request: BillingRequest, notice: string): BillingOutcome {
  const plan = { mode: request.mode, period: request.period.id, generatedAt: request.now.toISOString(), customers: [] };
  return { plan, dryRun: request.dryRun, estimated: false, notice, ...NOTHING_SETTLED };
}

/** A voided invoice billed nothing: the true-up leaves its entry out of what was billed, and so bills it again. */
async function withoutVoidedInvoices(ledger: LedgerPort, state: LedgerState): Promise<LedgerState> {
  const voided = new Set<string>();
  for (const entry of state.entries) {
    if (entry.invoiceId && (await ledger.invoiceStatus(entry.invoiceId)) === 'void') voided.add(entry.entryId);
  }
  return voided.size === 0 ? state : { ...state, entries: state.entries.filter((entry) => !voided.has(entry.entryId)) };
}

function selectCustomers(config: BillingConfig, request: BillingRequest): readonly Customer[] {
  if (request.mode === 'fixed-amount' && (!request.customerId || !request.fixedCharge)) {
    throw new ConfigError(['mode fixed-amount needs the customer, amount and description inputs']);
  }
  if (!request.customerId) return config.customers;
  const customer = config.customers.find((candidate) => candidate.id === request.customerId);
  if (!customer) {
    throw new ConfigError([`customer "${request.customerId}" is not in the billing config; expected one of ${config.customers.map((c) => c.id).join(', ')}`]);
  }
  if (request.fixedCharge) checkFixedAmount(request.fixedCharge.amount, customer.currency);
  return [customer];
}

/** A fixed amount is billed as given: one with more decimals than the currency has would be rounded silently. */
function checkFixedAmount(amount: Micros, currency: string): void {
  const perUnit = minorUnitsPerUnit(currency);
  if (amount % (MICROS_PER_UNIT / perUnit) === 0) return;
  const text = toDecimalString(amount).replace(/\.?0+$/, '');
  const form = perUnit === 1 ? `a whole amount of ${currency}, such as 250` : `at most two decimals for ${currency}, such as 250.01`;
  throw new ConfigError([`input amount is "${text}"; expected ${form} (it is not rounded)`]);
}

function checkSnapshot(snapshot: CostSnapshot, request: BillingRequest): CostSnapshot {
  if (snapshot.period !== request.period.id) {
    throw new ConfigError([
      `the cost report is for ${snapshot.period}, not for the period being billed (${request.period.id}); run the cost check for ${request.period.id} first`,
    ]);
  }
  if (request.mode === 'true-up' && !snapshot.window.complete) {
    throw new ConfigError([`the cost report for ${snapshot.period} covers only up to ${snapshot.window.endExclusive}; a true-up needs the whole month`]);
  }
  return snapshot;
}

/** Stripe deduplicates a meter event identifier for "a rolling period of at least 24 hours". */
const METER_DEDUPE_WINDOW_MS = 24 * 3_600_000;

/** How settling one entry ended: completed, left pending for the next run, or released (nothing reached Stripe). */
type Settled = 'completed' | 'pending' | 'released';

/**
 * The true-up (an invoice, a credit or a close) settles the period against everything billed: it waits while another
 * entry of the period is pending, since that entry may still be released and planned again.
 */
const closesPeriod = (action: PlannedAction) => action.entry.entryId === 'true-up';

/** Settles planned actions: reserve (entry and ledger head in one transaction) -> Stripe (idempotent) -> invoice record -> complete. */
class Settler {
  private readonly invoices: BilledInvoice[] = [];
  private readonly credits: BilledCredit[] = [];
  private readonly failures: CustomerFailure[] = [];
  private readonly heldElsewhere: string[] = [];
  private readonly meterResolutions: MeterResolution[] = [];
  private meterEvents = 0;

  constructor(
    private readonly deps: BillingDeps,
    private readonly stripe: StripeBillingPort,
    private readonly config: BillingConfig,
    private readonly now: Date,
  ) {}

  results() {
    return {
      invoices: this.invoices,
      credits: this.credits,
      meterEvents: this.meterEvents,
      meterResolutions: this.meterResolutions,
      heldElsewhere: this.heldElsewhere,
      failures: this.failures,
    };
  }

  async settleCustomer(plan: CustomerPlan): Promise<void> {
    if (plan.failure) return;
    try {
      // Resumed entries are independent of each other: one that fails leaves the others, and the new entries, to go on.
      const unsettled: string[] = [];
      let released = false;
      for (const action of plan.resume) {
        if (closesPeriod(action) && unsettled.length > 0) {
          this.waitFor(plan, action, unsettled);
          continue;
        }
        const settled = await this.settle(plan, action, true);
        if (settled === 'pending') unsettled.push(action.entry.entryId);
        released ||= settled === 'released';
      }
      // The plan counted a released entry as billed (and its release moved the ledger head on): plan again next run.
      if (released) return;
      let version = plan.ledgerVersion;
      for (const action of plan.actions) {
        if (closesPeriod(action) && unsettled.length > 0) {
          this.waitFor(plan, action, unsettled);
          return;
        }
        const reservation = await this.deps.ledger.reserve(action.entry, version);
        if (!reservation.reserved) {
          // Another run changed what was billed after this one read the ledger: the next run plans on what it did.
          this.heldElsewhere.push(ledgerEntryRef(action.entry));
          return;
        }
        version = reservation.version;
        // A new entry that fails stops the customer's further new entries (the next failure would likely be the same).
        if ((await this.settle(plan, action, false)) !== 'completed') return;
      }
    } catch (error) {
      // The ledger itself failed: the customer's remaining actions wait for the next run; other customers go on.
      this.failures.push({ customerId: plan.customerId, name: plan.name, message: describeError(error) });
    }
  }

  private waitFor(plan: CustomerPlan, action: PlannedAction, unsettled: readonly string[]): void {
    this.failures.push({
      customerId: plan.customerId,
      name: plan.name,
      entryId: action.entry.entryId,
      message: `the true-up waits until ${unsettled.join(', ')} ${unsettled.length === 1 ? 'is' : 'are'} settled; a later run settles it`,
    });
  }

  /**
   * Bills a reserved entry. A Stripe call that fails is reported for the entry; an entry for which nothing reached
   * Stripe (a permanent refusal of its first call) is released, resumed or not, so that the next run plans it again.
   */
  private async settle(plan: CustomerPlan, action: PlannedAction, resumed: boolean): Promise<Settled> {
    const { entry } = action;
    try {
      if (action.kind === 'close') await this.deps.ledger.complete(entry, {}, this.now);
      else if (action.kind === 'invoice') await this.invoice(plan, entry, resumed);
      else if (action.kind === 'credit') await this.credit(entry, resumed);
      else await this.meter(entry, action.eventName, resumed);
      return 'completed';
    } catch (error) {
      if (!(error instanceof BillingCallError)) throw error;
      const release = error.permanent && error.nothingCreated;
      if (release) await this.deps.ledger.release(entry);
      const retryAfter = error.retryAfterSeconds === undefined ? undefined : new Date(this.now.getTime() + error.retryAfterSeconds * 1000).toISOString();
      this.failures.push({
        customerId: plan.customerId,
        name: plan.name,
        entryId: entry.entryId,
        message: describeError(error),
        ...(release ? { released: true } : {}),
        ...(retryAfter ? { retryAfter } : {}),
      });
      return release ? 'released' : 'pending';
    }
  }

  private async invoice(plan: CustomerPlan, entry: LedgerEntry, resumed: boolean): Promise<void> {
    const issued = await this.stripe.issueInvoice({
      ledgerEntry: ledgerEntryRef(entry),
      customerId: entry.customerId,
      period: entry.period,
      stripeCustomerId: entry.stripeCustomerId,
      currency: entry.currency,
      amountMinor: entry.amountMinor,
      lineDescription: entry.description,
      ...(entry.lines ? { lines: entry.lines } : {}),
      ...(entry.invoiceFields ? { customFields: entry.invoiceFields } : {}),
      collectionMethod: this.config.billing.collectionMethod,
      daysUntilDue: this.config.billing.daysUntilDue,
      resume: resumed,
    });
    await this.deps.ledger.recordInvoice(invoiceRecord(entry, issued, this.now));
    const completedHere = await this.deps.ledger.complete(entry, { invoiceId: issued.invoiceId }, this.now);
    if (!completedHere) return;
    this.invoices.push({
      customerId: entry.customerId,
      name: plan.name,
      entryId: entry.entryId,
      invoiceId: issued.invoiceId,
      amountMinor: issued.amountDue,
      currency: issued.currency,
      status: issued.status,
      dashboardUrl: this.stripe.dashboardUrl(issued.invoiceId),
      resumed,
    });
    await this.notify(plan, entry, issued.invoiceId);
  }

  private async credit(entry: LedgerEntry, resumed: boolean): Promise<void> {
    const { creditId } = await this.stripe.creditBalance({
      ledgerEntry: ledgerEntryRef(entry),
      stripeCustomerId: entry.stripeCustomerId,
      currency: entry.currency,
      amountMinor: -entry.amountMinor,
      description: entry.description,
      resume: resumed,
    });
    if (await this.deps.ledger.complete(entry, { creditId }, this.now)) {
      this.credits.push({ customerId: entry.customerId, entryId: entry.entryId, creditId, amountMinor: -entry.amountMinor, currency: entry.currency });
    }
  }

  private async meter(entry: LedgerEntry, eventName: string, resumed: boolean): Promise<void> {
    const delivery = await this.stripe.sendMeterEvent({
      ledgerEntry: ledgerEntryRef(entry),
      eventName,
      stripeCustomerId: entry.stripeCustomerId,
      value: entry.amountMinor,
      identifier: entry.meterIdentifier ?? ledgerEntryRef(entry),
      timestamp: entry.meterTimestamp ?? Math.floor(this.now.getTime() / 1000),
      pastDedupeWindow: resumed && this.now.getTime() - Date.parse(entry.reservedAt) >= METER_DEDUPE_WINDOW_MS,
    });
    if (!(await this.deps.ledger.complete(entry, {}, this.now))) return;
    this.meterEvents += 1;
    if (delivery !== 'sent') this.meterResolutions.push({ customerId: entry.customerId, entryId: entry.entryId, delivery });
  }

  /** The notice names the invoice but never carries its hosted page: anyone with that link can view and pay it. */
  private async notify(plan: CustomerPlan, entry: LedgerEntry, invoiceId: string): Promise<void> {
    if (!this.deps.publish) return;
    const amount = formatMinor(entry.amountMinor, entry.currency);
    try {
      await this.deps.publish({
        subject: `Invoice ${amount} for ${plan.name} (${entry.period})`,
        message: [`Invoice ${invoiceId} of ${amount} was created for ${plan.name} (${entry.customerId}) for ${entry.period}.`, entry.description].join('\n'),
        attributes: { type: 'invoice-created', customer: entry.customerId, period: entry.period },
      });
    } catch (error) {
      // The invoice exists and the ledger says so; a lost notice must not turn a billed customer into a failure.
      this.deps.warn?.(`invoice ${invoiceId} was created but its SNS notice failed: ${describeError(error)}`);
    }
  }
}

/** A dry run without a billing table: nothing was billed as far as it knows, and it never writes. */
export const emptyLedger: LedgerPort = {
  read: async () => ({ entries: [], version: 0 }),
  invoiceStatus: async () => undefined,
  reserve: () => Promise.reject(new Error('a run without a billing table cannot reserve ledger entries')),
  complete: () => Promise.reject(new Error('a run without a billing table cannot complete ledger entries')),
  release: () => Promise.reject(new Error('a run without a billing table cannot release ledger entries')),
  recordInvoice: () => Promise.reject(new Error('a run without a billing table cannot record invoices')),
};
