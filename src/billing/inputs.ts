import { DYNAMODB_TABLE_NAME, DYNAMODB_TABLE_NAME_FORM, InputParser, SNS_TOPIC_ARN, SNS_TOPIC_ARN_FORM, type InputReader } from '../config/inputs.js';
import { COST_METRICS, type CostMetric } from '../costs/query.js';
import { MoneyError, parseAmount } from '../money.js';
import { parsePeriod, periodOf } from '../period.js';
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
  /** Mode reconcile: compare the period and the one before with Stripe instead of billing (`request` is then unused). */
  readonly reconcile: boolean;
  /** Where a reconcile run writes its JSON report. */
  readonly reportPath: string;
  readonly request: BillingRequest;
}

const MODES: ReadonlyArray<BillingMode | 'reconcile'> = ['scheduled', 'true-up', 'fixed-amount', 'reconcile'];
const AMOUNT_FORM = "a positive amount in the customer's currency, such as 250.00";

/** The billing action's inputs (see actions/billing/action.yml), validated before any side effect; all problems at once. */
export function parseBillingInputs(read: InputReader, now: Date): BillingInputs {
  const input = new InputParser(read);
  const chosen = input.choice<BillingMode | 'reconcile'>('mode', MODES, 'scheduled');
  const reconcile = chosen === 'reconcile';
  const mode: BillingMode = reconcile ? 'scheduled' : chosen;
  const period = input.attempt(() => parsePeriod(input.text('period', mode === 'true-up' ? 'previous' : 'current'), now, 'input period'), periodOf(now));
  const dryRun = input.boolean('dry-run', false);
  const customerId = input.text('customer') || undefined;
  const fixedCharge = mode === 'fixed-amount' ? parseFixedCharge(input, customerId) : undefined;
  if (mode !== 'fixed-amount') {
    for (const name of ['amount', 'description']) {
      if (input.text(name)) input.fail(name, input.text(name), `nothing: it applies only to mode fixed-amount (mode is ${chosen})`);
    }
  }
  const metric = input.choice<CostMetric>('metric', COST_METRICS, 'UnblendedCost');
  const billingTable = input.matching('billing-table', DYNAMODB_TABLE_NAME, DYNAMODB_TABLE_NAME_FORM) || undefined;
  if (reconcile && customerId) input.fail('customer', customerId, 'nothing: mode reconcile covers every customer');
  if (!billingTable && reconcile) input.fail('billing-table', '', `${DYNAMODB_TABLE_NAME_FORM}: mode reconcile reads the ledger, also in a dry run`);
  else if (!billingTable && !dryRun) {
    input.fail('billing-table', '', `${DYNAMODB_TABLE_NAME_FORM}: a real run needs the billing table for its ledger (a dry run may go without)`);
  }
  const snsTopicArn = input.matching('sns-topic-arn', SNS_TOPIC_ARN, SNS_TOPIC_ARN_FORM) || undefined;
  input.done();
  return {
    config: input.text('config', 'billing.config.yaml'),
    costReport: input.text('cost-report', 'cost-report.json'),
    metric,
    billingTable,
    snsTopicArn,
    stripeSecretParameter: input.text('stripe-secret-parameter', '/stripe/prod/secret-key'),
    reconcile,
    reportPath: input.text('report-path', 'reconcile-report.json'),
    request: { mode, period, now, dryRun, ...(customerId ? { customerId } : {}), ...(fixedCharge ? { fixedCharge } : {}) },
  };
}

function parseFixedCharge(input: InputParser, customerId: string | undefined): BillingRequest['fixedCharge'] {
  if (!customerId) input.fail('customer', '', 'the id of a customer from the billing config: mode fixed-amount bills one customer');
  const description = input.text('description');
  if (!description) input.fail('description', '', 'the text of the invoice line, such as "Migration support, November"');
  const amountText = input.text('amount');
  let amount = 0;
  try {
    amount = parseAmount(amountText);
  } catch (error) {
    if (!(error instanceof MoneyError)) throw error;
  }
  if (amount <= 0) {
    input.fail('amount', amountText, AMOUNT_FORM);
    return undefined;
  }
  return description ? { amount, description } : undefined;
}
