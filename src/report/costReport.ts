import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AlertOutcome } from '../alerts/dispatch.js';
import { anomalyReport, type AnomalyResult } from '../anomalies/report.js';
import { chargeOf, markupOf, percentOf } from '../billing/charge.js';
import type { BillingConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { CostSnapshot, CustomerCosts } from '../costs/types.js';
import { parseAmount, toDecimalString } from '../money.js';

export { percentOf } from '../billing/charge.js';

export const COST_REPORT_SCHEMA_VERSION = 1;

const money = toDecimalString;
const services = (list: CostSnapshot['total']['services']) => list.map((s) => ({ service: s.service, amount: money(s.amount) }));

/**
 * The JSON cost report: the whole snapshot with money as exact decimal strings ("123.456789"), daily amounts
 * one per day from `window.start`. Uploaded as an artifact and read back by the billing action. Each customer also
 * carries its markup, charge and forecast charge; `usedPercent` and `status` compare the charge with the allowance.
 * Those are for people and tools: the billing action recomputes the charge from the billing config.
 */
export function toCostReport(
  snapshot: CostSnapshot,
  config: Pick<BillingConfig, 'customers'>,
  alerts: readonly AlertOutcome[] = [],
  anomalies?: AnomalyResult,
) {
  const { head, customer, tail } = costReportParts(snapshot, config, alerts, anomalies);
  return { ...head, customers: snapshot.customers.map(customer), ...tail };
}

export type CostReport = ReturnType<typeof toCostReport>;

/** The report's fields before its customers, one customer's entry, and the fields after: in the report's order. */
function costReportParts(snapshot: CostSnapshot, config: Pick<BillingConfig, 'customers'>, alerts: readonly AlertOutcome[], anomalies?: AnomalyResult) {
  const markup = markupOf(config.customers);
  const head = {
    schemaVersion: COST_REPORT_SCHEMA_VERSION,
    period: snapshot.period,
    window: snapshot.window,
    metric: snapshot.metric,
    currency: snapshot.currency,
    ...(snapshot.costUnit === undefined ? {} : { costUnit: snapshot.costUnit }),
    estimated: snapshot.estimated,
    generatedAt: snapshot.generatedAt,
    costExplorerRequests: snapshot.costExplorerRequests,
    total: {
      cost: money(snapshot.total.cost),
      forecast: money(snapshot.total.forecast),
      ...(snapshot.total.awsForecast === undefined ? {} : { awsForecast: money(snapshot.total.awsForecast) }),
      threshold: money(snapshot.total.threshold),
      usedPercent: percentOf(snapshot.total.cost, snapshot.total.threshold),
      services: services(snapshot.total.services),
      daily: snapshot.total.daily.map(money),
    },
  };
  const customer = (c: CustomerCosts) => {
    const charge = chargeOf(c, markup(c.customerId));
    return {
      customerId: c.customerId,
      name: c.name,
      currency: c.currency,
      cost: money(c.cost),
      markupPercent: charge.markupPercent,
      charge: money(charge.charge),
      allowance: money(c.allowance),
      forecast: money(c.forecast),
      forecastCharge: money(charge.forecastCharge),
      usedPercent: charge.usedPercent,
      status: charge.status,
      services: services(c.services),
      daily: c.daily.map(money),
    };
  };
  const tail = {
    unmapped: { cost: money(snapshot.unmapped.cost), keys: snapshot.unmapped.keys.map((u) => ({ key: u.key, amount: money(u.amount) })) },
    alerts: alerts.map((a) => ({
      scope: a.scope,
      kind: a.kind,
      level: a.level,
      amount: money(a.amount),
      limit: money(a.limit),
      status: a.status,
      ...(a.error ? { error: a.error } : {}),
    })),
    ...(anomalies ? { anomalies: anomalyReport(anomalies) } : {}),
  };
  return { head, customer, tail };
}

/** Text gathered before each write: short-lived strings, far below V8's large-object size (300 writes at 10,000 customers). */
const WRITE_CHUNK_CHARS = 64 * 1024;

/**
 * Writes `JSON.stringify(toCostReport(...))`, byte for byte, one customer at a time: at 10,000 customers the report
 * is some 20 MB, and building it whole (objects, string and buffer) was the cost check's peak memory. It goes to a
 * temporary file renamed into place, so a failed run never leaves half a report at `path`.
 */
export async function writeCostReport(
  path: string,
  snapshot: CostSnapshot,
  config: Pick<BillingConfig, 'customers'>,
  alerts: readonly AlertOutcome[],
  anomalies?: AnomalyResult,
): Promise<void> {
  const { head, customer, tail } = costReportParts(snapshot, config, alerts, anomalies);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const file = await open(temporary, 'w');
  try {
    // An object's JSON is "{", its fields joined by ",", and "}": head and tail are never empty.
    let pending = `${JSON.stringify(head).slice(0, -1)},"customers":[`;
    for (const [index, costs] of snapshot.customers.entries()) {
      pending += `${index === 0 ? '' : ','}${JSON.stringify(customer(costs))}`;
      if (pending.length >= WRITE_CHUNK_CHARS) {
        await file.appendFile(pending);
        pending = '';
      }
    }
    await file.appendFile(`${pending}],${JSON.stringify(tail).slice(1)}`);
    await file.close();
    await rename(temporary, path);
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}

/** A cost report that cannot be used: an input problem, reported before any side effect. */
export class CostReportError extends ConfigError {
  override name = 'CostReportError';
  constructor(message: string) {
    super([message]);
  }
}

export async function readCostReport(path: string): Promise<CostSnapshot> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CostReportError(`cost report "${path}" cannot be read (${(error as Error).message}); run the cost-check action first or query costs directly`);
  }
  try {
    return fromCostReport(JSON.parse(text) as CostReport, path);
  } catch (error) {
    if (error instanceof CostReportError) throw error;
    throw new CostReportError(
      `cost report "${path}" is not a cost report written by the cost-check action (${(error as Error).message}); re-run the cost check`,
    );
  }
}

export function fromCostReport(report: CostReport, source = 'cost report'): CostSnapshot {
  if (report.schemaVersion !== COST_REPORT_SCHEMA_VERSION) {
    throw new CostReportError(`${source} has schemaVersion ${String(report.schemaVersion)}; this version reads ${COST_REPORT_SCHEMA_VERSION}`);
  }
  const parseServices = (list: Array<{ service: string; amount: string }>) => list.map((s) => ({ service: s.service, amount: parseAmount(s.amount) }));
  const customers: CustomerCosts[] = report.customers.map((c) => ({
    customerId: c.customerId,
    name: c.name,
    currency: c.currency,
    cost: parseAmount(c.cost),
    allowance: parseAmount(c.allowance),
    forecast: parseAmount(c.forecast),
    services: parseServices(c.services),
    daily: c.daily.map(parseAmount),
  }));
  return {
    period: report.period,
    window: report.window,
    metric: report.metric,
    currency: report.currency,
    ...(report.costUnit === undefined ? {} : { costUnit: report.costUnit }),
    estimated: report.estimated,
    generatedAt: report.generatedAt,
    costExplorerRequests: report.costExplorerRequests,
    customers,
    unmapped: { cost: parseAmount(report.unmapped.cost), keys: report.unmapped.keys.map((u) => ({ key: u.key, amount: parseAmount(u.amount) })) },
    total: {
      cost: parseAmount(report.total.cost),
      forecast: parseAmount(report.total.forecast),
      ...(report.total.awsForecast === undefined ? {} : { awsForecast: parseAmount(report.total.awsForecast) }),
      threshold: parseAmount(report.total.threshold),
      services: parseServices(report.total.services),
      daily: report.total.daily.map(parseAmount),
    },
  };
}
