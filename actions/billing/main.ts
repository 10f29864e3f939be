import * as core from '@actions/core';
import { parseBillingInputs, type BillingInputs } from '../../src/billing/inputs.js';
import { emptyLedger, runBilling } from '../../src/billing/run.js';
import { billingOutputs, renderBillingSummary } from '../../src/billing/summary.js';
import type { LoadCosts, StripeBillingPort } from '../../src/billing/types.js';
import { createAwsClients, type AwsClients } from '../../src/aws/clients.js';
import { readSecretParameter } from '../../src/aws/ssm.js';
import { loadBillingConfig } from '../../src/config/load.js';
import { describeError } from '../../src/errors.js';
import { snsPublisher } from '../../src/notify/sns.js';
import { stripeBilling } from '../../src/stripe/billing.js';
import { createStripe, isLiveKey } from '../../src/stripe/client.js';
import { dynamoLedger } from '../../src/store/ledger.js';
import { readCostReportFile } from './costReport.js';

export async function run(): Promise<void> {
  try {
    const inputs = parseBillingInputs((name) => core.getInput(name), new Date());
    const config = await loadBillingConfig(inputs.config);
    const aws = createAwsClients();
    const outcome = await runBilling(
      {
        loadCosts: loadCostsFromReportOrQuery(inputs),
        ledger: inputs.billingTable ? dynamoLedger(aws.dynamo, inputs.billingTable) : emptyLedger,
        stripe: inputs.request.dryRun ? undefined : await stripeFromSsm(aws, inputs.stripeSecretParameter),
        ...(inputs.snsTopicArn && !inputs.request.dryRun ? { publish: snsPublisher(aws.sns, inputs.snsTopicArn) } : {}),
        warn: (message) => core.warning(message),
      },
      config,
      inputs.request,
    );
    if (outcome.notice) core.notice(outcome.notice);
    await core.summary.addRaw(renderBillingSummary(outcome)).write();
    for (const [name, value] of Object.entries(billingOutputs(outcome, config.currency))) core.setOutput(name, value);
    for (const failure of outcome.failures) core.error(failure.message, { title: `Billing failed for ${failure.name} (${failure.customerId})` });
    if (outcome.failures.length > 0) {
      core.setFailed(`Billing failed for ${outcome.failures.length} customer(s): ${outcome.failures.map((failure) => failure.customerId).join(', ')}. The others were billed; a re-run bills or resumes only what is missing.`);
    }
  } catch (error) {
    core.setFailed(describeError(error));
  }
}

/**
 * INTEGRATION POINT (cost check): the one place the billing action gets its costs. When the cost-check code is
 * merged, read the report with readCostReport (src/report/costReport.ts) when inputs.costReport exists, otherwise
 * query with collectCosts (src/costs/collect.ts).
 */
function loadCostsFromReportOrQuery(inputs: BillingInputs): LoadCosts {
  return () => readCostReportFile(inputs.costReport);
}

async function stripeFromSsm(aws: AwsClients, parameter: string): Promise<StripeBillingPort> {
  const secretKey = await readSecretParameter(aws.ssm, parameter);
  core.setSecret(secretKey);
  return stripeBilling(createStripe(secretKey), { livemode: isLiveKey(secretKey) });
}
