import * as core from '@actions/core';
import { writeFile } from 'node:fs/promises';
import type { AwsClients } from '../../src/aws/clients.js';
import { readSecretParameter } from '../../src/aws/ssm.js';
import type { BillingInputs } from '../../src/billing/inputs.js';
import type { BillingConfig } from '../../src/config/load.js';
import { writeJobSummary } from '../../src/github/runtime.js';
import { snsPublisher } from '../../src/notify/sns.js';
import { reconcile } from '../../src/reconcile/reconcile.js';
import { moneyLosingDrifts, publishDrifts, reconcileReport, renderReconcileSummary } from '../../src/reconcile/report.js';
import { dynamoReconcileStore } from '../../src/store/reconcileStore.js';
import { createStripe, isLiveKey } from '../../src/stripe/client.js';
import { stripeInvoiceReader } from '../../src/stripe/invoiceReader.js';

/** Mode reconcile: compare Stripe with the ledger and invoice records, report each drift, fail only on lost money. */
export async function runReconcile(inputs: BillingInputs, config: BillingConfig, aws: AwsClients): Promise<void> {
  const secretKey = await readSecretParameter(aws.ssm, inputs.stripeSecretParameter);
  core.setSecret(secretKey);
  const result = await reconcile(
    {
      stripe: stripeInvoiceReader(createStripe(secretKey), { livemode: isLiveKey(secretKey) }),
      store: dynamoReconcileStore(aws.dynamo, inputs.billingTable ?? ''),
    },
    config,
    { period: inputs.request.period, now: inputs.request.now, dryRun: inputs.request.dryRun },
  );
  const publishFailures = await publishDrifts(result, inputs.snsTopicArn ? snsPublisher(aws.sns, inputs.snsTopicArn) : undefined);
  await writeFile(inputs.reportPath, JSON.stringify(reconcileReport(result)));
  await writeJobSummary(renderReconcileSummary(result));
  core.setOutput(
    'drifts',
    JSON.stringify(
      result.drifts.map(({ kind, customerId, period, invoiceId, losesMoney }) => ({ kind, customer: customerId, period, invoice: invoiceId, losesMoney })),
    ),
  );
  core.setOutput('report-path', inputs.reportPath);
  for (const failure of publishFailures) {
    core.error(`Drift notice not published (${failure}); the next run reports the drift again.`, { title: 'SNS publish failed' });
  }
  const losing = moneyLosingDrifts(result);
  if (losing.length > 0) {
    core.setFailed(
      `${losing.length} billing drift(s) lose money: ${losing.map((d) => `${d.customerId} ${d.period} ${d.invoiceId} (${d.kind})`).join(', ')}. See the job summary for what to do.`,
    );
  } else if (publishFailures.length > 0) {
    process.exitCode = 1;
  }
}
