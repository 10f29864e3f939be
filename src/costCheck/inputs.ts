import { DYNAMODB_TABLE_NAME, DYNAMODB_TABLE_NAME_FORM, InputParser, SNS_TOPIC_ARN, SNS_TOPIC_ARN_FORM, type InputReader } from '../config/inputs.js';
import { COST_METRICS, type CostMetric } from '../costs/query.js';
import { fromUnits, type Micros } from '../money.js';
import { parsePeriod, periodOf, type BillingPeriod } from '../period.js';

export interface CostCheckInputs {
  readonly configPath: string;
  readonly period: BillingPeriod;
  readonly threshold: Micros;
  readonly metric: CostMetric;
  readonly billingTable: string;
  readonly snsTopicArn: string;
  readonly reportPath: string;
  readonly dryRun: boolean;
  readonly awsForecast: boolean;
}

/** The cost-check action's inputs (see actions/cost-check/action.yml), validated before any side effect. */
export function parseCostCheckInputs(read: InputReader, now: Date): CostCheckInputs {
  const input = new InputParser(read);
  const parsed: CostCheckInputs = {
    configPath: input.text('config', 'billing.config.yaml'),
    period: input.attempt(() => parsePeriod(input.text('period', 'current'), now, 'input period'), periodOf(now)),
    threshold: fromUnits(input.number('budget-threshold', 0, { example: 800 })),
    metric: input.choice<CostMetric>('metric', COST_METRICS, 'UnblendedCost'),
    billingTable: input.matching('billing-table', DYNAMODB_TABLE_NAME, DYNAMODB_TABLE_NAME_FORM),
    snsTopicArn: input.matching('sns-topic-arn', SNS_TOPIC_ARN, SNS_TOPIC_ARN_FORM),
    reportPath: input.text('report-path', 'cost-report.json'),
    dryRun: input.boolean('dry-run', false),
    awsForecast: input.boolean('aws-forecast', false),
  };
  if (parsed.snsTopicArn && !parsed.billingTable && !parsed.dryRun) {
    input.fail('billing-table', '', 'a table name whenever sns-topic-arn is set, so that each alert is sent once per period');
  }
  input.done();
  return parsed;
}
