import { COST_METRICS, type CostMetric } from '../costs/query.js';
import { ConfigError } from '../errors.js';
import { MoneyError, parseAmount } from '../money.js';
import { parsePeriod, PeriodError, type BillingPeriod } from '../period.js';
import type { BillingRequest } from './run.js';
import type { BillingMode } from './types.js';

export interface BillingInputs {
  readonly config: string;
  readonly costReport: string;
  /** Cost Explorer metric when costs are queried rather than read from the report. */
  readonly metric: CostMetric;
  readonly billingTable: string | undefined;
  readonly snsTopicArn: string | undefined;
  readonly stripeSecretParameter: string;
  readonly request: BillingRequest;
}

const MODES: readonly BillingMode[] = ['scheduled', 'true-up', 'fixed-amount'];

/** Reads and checks every input before any side effect; all problems are reported at once. */
export function parseBillingInputs(input: (name: string) => string, now: Date): BillingInputs {
  const problems: string[] = [];
  const text = (name: string) => input(name).trim();
  const optional = (name: string) => text(name) || undefined;

  const modeText = text('mode') || 'scheduled';
  const mode = MODES.find((candidate) => candidate === modeText);
  if (!mode) problems.push(`mode "${modeText}" is not accepted; expected one of ${MODES.join(', ')}`);

  let period: BillingPeriod | undefined;
  try {
    period = parsePeriod(text('period') || (mode === 'true-up' ? 'previous' : 'current'), now);
  } catch (error) {
    if (!(error instanceof PeriodError)) throw error;
    problems.push(error.message);
  }

  const dryRunText = (text('dry-run') || 'false').toLowerCase();
  if (dryRunText !== 'true' && dryRunText !== 'false') problems.push(`dry-run "${text('dry-run')}" is not accepted; expected true or false`);
  const dryRun = dryRunText === 'true';

  const customerId = optional('customer');
  let fixedCharge: BillingRequest['fixedCharge'];
  if (mode === 'fixed-amount') {
    if (!customerId) problems.push('customer is missing; mode fixed-amount bills one customer: give its id from the billing config');
    const description = text('description');
    if (!description) problems.push('description is missing; mode fixed-amount needs the text of the invoice line, such as "Migration support, November"');
    try {
      const amount = parseAmount(text('amount'));
      if (amount <= 0) problems.push(`amount "${text('amount')}" is not accepted; expected a positive amount in the customer's currency, such as 250.00`);
      else fixedCharge = { amount, description };
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      problems.push(`amount "${text('amount')}" is not accepted; expected a positive amount in the customer's currency, such as 250.00`);
    }
  } else if (text('amount') || text('description')) {
    problems.push(`amount and description apply only to mode fixed-amount (mode is ${modeText})`);
  }

  const metricText = text('metric') || 'UnblendedCost';
  const metric = COST_METRICS.find((candidate) => candidate === metricText);
  if (!metric) problems.push(`metric "${metricText}" is not accepted; expected one of ${COST_METRICS.join(', ')}`);

  const billingTable = optional('billing-table');
  if (!billingTable && !dryRun) problems.push('billing-table is missing; a real run needs the DynamoDB billing table for its ledger (a dry run may go without)');

  if (problems.length > 0 || !mode || !period || !metric) throw new ConfigError(problems);
  return {
    config: text('config') || 'billing.config.yaml',
    costReport: text('cost-report') || 'cost-report.json',
    metric,
    billingTable,
    snsTopicArn: optional('sns-topic-arn'),
    stripeSecretParameter: text('stripe-secret-parameter') || '/stripe/secret-key',
    request: { mode, period, now, dryRun, ...(customerId ? { customerId } : {}), ...(fixedCharge ? { fixedCharge } : {}) },
  };
}
