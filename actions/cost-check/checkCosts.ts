import { costExplorerAdapter } from '../../src/aws/costExplorer.js';
import { createAwsClients } from '../../src/aws/clients.js';
import { loadBillingConfig } from '../../src/config/load.js';
import type { CostCheckInputs } from '../../src/costCheck/inputs.js';
import { costCheckOutputs } from '../../src/costCheck/outputs.js';
import { runCostCheck } from '../../src/costCheck/run.js';
import { errorAnnotation, setOutput, warningAnnotation } from '../../src/github/commands.js';
import { writeJobSummary } from '../../src/github/runtime.js';
import { formatMoney } from '../../src/money.js';
import { snsPublisher } from '../../src/notify/sns.js';
import { writeCostReport } from '../../src/report/costReport.js';
import { renderSummary } from '../../src/report/summary.js';
import { dynamoAlertMarkers } from '../../src/store/alertMarkers.js';

/** The cost check once its inputs are valid: read the config and costs, alert, report. */
export async function checkCosts(inputs: CostCheckInputs, now: Date): Promise<void> {
  const config = await loadBillingConfig(inputs.configPath);
  const aws = createAwsClients();
  const result = await runCostCheck(
    {
      costExplorer: costExplorerAdapter(aws.costExplorer),
      markers: inputs.billingTable ? dynamoAlertMarkers(aws.dynamo, inputs.billingTable) : undefined,
      publish: inputs.snsTopicArn ? snsPublisher(aws.sns, inputs.snsTopicArn) : undefined,
    },
    config,
    { period: inputs.period, now, metric: inputs.metric, threshold: inputs.threshold, awsForecast: inputs.awsForecast, dryRun: inputs.dryRun },
  );
  const { snapshot, alerts, anomalies } = result;

  await writeCostReport(inputs.reportPath, snapshot, config, alerts, anomalies);
  await writeJobSummary(renderSummary(snapshot, config, alerts, { dryRun: inputs.dryRun, reportPath: inputs.reportPath, anomalies }));
  for (const [name, value] of Object.entries(costCheckOutputs(result, inputs.reportPath))) setOutput(name, value);
  if (result.failedAlerts > 0) {
    const failed = alerts.filter((a) => a.status === 'failed');
    errorAnnotation(
      `${failed.length} alert(s) could not be published (${failed[0]?.error}); the next run sends them. The report and outputs were written.`,
      'SNS publish failed',
    );
    process.exitCode = 1;
  }
  const failedAnomalies = anomalies.anomalies.filter((a) => a.status === 'failed');
  if (failedAnomalies.length > 0) {
    errorAnnotation(
      `${failedAnomalies.length} cost anomal(ies) could not be published (${failedAnomalies[0]?.error}); the next run sends them.`,
      'SNS publish failed',
    );
    process.exitCode = 1;
  }
  if (snapshot.costUnit && snapshot.costUnit !== snapshot.currency.toUpperCase()) {
    warningAnnotation(
      `Cost Explorer reports amounts in ${snapshot.costUnit} but the config's currency is ${snapshot.currency}; amounts are not converted`,
      'Currency mismatch',
    );
  }
  if (snapshot.unmapped.cost > 0) {
    warningAnnotation(
      `${formatMoney(snapshot.unmapped.cost, snapshot.currency)} of cost matches no customer (${snapshot.unmapped.keys
        .slice(0, 5)
        .map((u) => u.key || '(none)')
        .join(', ')}); add a customer whose match covers it`,
      'Unmapped cost',
    );
  }
}
