import * as core from '@actions/core';
import { existsSync } from 'node:fs';
import type { BillingInputs } from '../../src/billing/inputs.js';
import { emptyLedger, runBilling } from '../../src/billing/run.js';
import { billingOutputs, renderBillingSummary } from '../../src/billing/summary.js';
import type { LoadCosts, StripeBillingPort } from '../../src/billing/types.js';
import { createAwsClients, type AwsClients } from '../../src/aws/clients.js';
import { readSecretParameter } from '../../src/aws/ssm.js';
import { loadBillingConfig, type BillingConfig } from '../../src/config/load.js';
import { collectCosts } from '../../src/costs/collect.js';
import { costExplorerAdapter } from '../../src/aws/costExplorer.js';
import { readCostReport } from '../../src/report/costReport.js';
import { writeJobSummary } from '../../src/github/runtime.js';
import { snsPublisher } from '../../src/notify/sns.js';
import { stripeBilling } from '../../src/stripe/billing.js';
import { createStripe, isLiveKey } from '../../src/stripe/client.js';
import { dynamoLedger } from '../../src/store/ledger.js';
import { runReconcile } from './reconcile.js';

/** Billing once its inputs are valid: read the config, plan, invoice, report. */
export async function bill(inputs: BillingInputs): Promise<void> {
  const config = await loadBillingConfig(inputs.config);
  const aws = createAwsClients();
  if (inputs.reconcile) return await runReconcile(inputs, config, aws);
  const outcome = await runBilling(
    {
      loadCosts: loadCostsFromReportOrQuery(inputs, config, aws),
      ledger: inputs.billingTable ? dynamoLedger(aws.dynamo, inputs.billingTable) : emptyLedger,
      stripe: inputs.request.dryRun ? undefined : await stripeFromSsm(aws, inputs.stripeSecretParameter),
      ...(inputs.snsTopicArn && !inputs.request.dryRun ? { publish: snsPublisher(aws.sns, inputs.snsTopicArn) } : {}),
      warn: (message) => core.warning(message),
    },
    config,
    inputs.request,
  );
  if (outcome.notice) core.notice(outcome.notice);
  await writeJobSummary(renderBillingSummary(outcome));
  for (const [name, value] of Object.entries(billingOutputs(outcome, config.currency))) core.setOutput(name, value);
  for (const failure of outcome.failures) core.error(failure.message, { title: `Billing failed for ${failure.name} (${failure.customerId})` });
  const failed = [...new Set(outcome.failures.map((failure) => failure.customerId))];
  if (failed.length > 0) {
    core.setFailed(
      `Billing failed for ${failed.length} customer(s): ${failed.join(', ')}. The others were billed; a re-run bills or resumes only what is missing.`,
    );
  }
}

/**
 * The cost check's report when it covers the period (the scheduled run: cost check, then billing); otherwise one
 * Cost Explorer query for the period (a true-up of last month, or a manual run without a report).
 */
function loadCostsFromReportOrQuery(inputs: BillingInputs, config: BillingConfig, aws: AwsClients): LoadCosts {
  return async (period) => {
    if (existsSync(inputs.costReport)) {
      const report = await readCostReport(inputs.costReport);
      if (report.period === period.id) return report;
      core.info(`${inputs.costReport} covers ${report.period}, not ${period.id}: querying Cost Explorer for ${period.id}`);
    }
    const now = inputs.request.now;
    return collectCosts(costExplorerAdapter(aws.costExplorer), config, { period, now, metric: inputs.metric, threshold: 0 });
  };
}

async function stripeFromSsm(aws: AwsClients, parameter: string): Promise<StripeBillingPort> {
  const secretKey = await readSecretParameter(aws.ssm, parameter);
  core.setSecret(secretKey);
  return stripeBilling(createStripe(secretKey), { livemode: isLiveKey(secretKey) });
}
