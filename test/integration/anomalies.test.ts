import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients, type AwsClients } from '../../src/aws/clients.js';
import { costExplorerAdapter } from '../../src/aws/costExplorer.js';
import { runCostCheck } from '../../src/costCheck/run.js';
import { fromUnits } from '../../src/money.js';
import { snsPublisher } from '../../src/notify/sns.js';
import { monthPeriod } from '../../src/period.js';
import { toCostReport } from '../../src/report/costReport.js';
import { renderSummary } from '../../src/report/summary.js';
import { dynamoAlertMarkers } from '../../src/store/alertMarkers.js';
import { sampleCostCube, type SampleCostPage } from '../../scripts/demo/sampleCosts.mjs';
import { createBillingTable } from '../support/billing.js';
import { costCheckPages } from '../support/costPages.js';
import { startMoto, TEST_CREDENTIALS, type Moto } from '../support/moto.js';
import { demoConfig } from '../support/snapshots.js';

const table = 'billing-test';
const now = new Date('2026-11-14T06:00:00Z');
const options = { period: monthPeriod(2026, 11), now, metric: 'UnblendedCost', threshold: fromUnits(1500), dryRun: false } as const;

/**
 * The pages of the cost check on 14 November: the month to the 13th (a Friday) by service, and each day by customer
 * from 16 October, where the baseline of the 13th starts; Initech's 13th at 4 times its usual cost when `planted`.
 */
function pages(planted: boolean): SampleCostPage[] {
  const cube = sampleCostCube({ start: '2026-10-16', endExclusive: '2026-11-14' });
  if (planted) {
    const first = ((cube.days.length - 1) * cube.accounts.length + cube.accounts.indexOf('333333333333')) * cube.services.length;
    for (let service = 0; service < cube.services.length; service++) cube.units[first + service]! *= 4;
  }
  return costCheckPages(cube, demoConfig.allocation, { start: '2026-11-01', endExclusive: '2026-11-14' }, undefined, '2026-10-16');
}

let moto: Moto;
let aws: AwsClients;
let topicArn: string;
let ceRequests = 0;

beforeAll(async () => {
  moto = await startMoto();
  aws = createAwsClients({ endpoint: moto.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
  aws.costExplorer.middlewareStack.add(
    (next) => async (args) => {
      ceRequests++;
      return next(args);
    },
    { step: 'finalizeRequest' },
  );
});
afterAll(() => moto.stop());
beforeEach(async () => {
  await moto.reset();
  ceRequests = 0;
  await createBillingTable(aws.dynamo, table);
  topicArn = (await aws.sns.send(new CreateTopicCommand({ Name: 'billing-alerts' }))).TopicArn!;
});

const ports = (topic = topicArn) => ({
  costExplorer: costExplorerAdapter(aws.costExplorer),
  markers: dynamoAlertMarkers(aws.dynamo, table),
  publish: snsPublisher(aws.sns, topic),
});
const anomalyMessages = async () => (await moto.snsMessages()).filter((m) => m.attributes.type === 'cost-anomaly');

describe('cost anomalies in the cost check (moto: Cost Explorer, DynamoDB, SNS)', () => {
  it('publishes a planted spike once per customer and day, with no extra Cost Explorer request', async () => {
    await moto.seedCostAndUsage(pages(true));
    const first = await runCostCheck(ports(), demoConfig, options);
    // One page for each of the two queries, the baseline's October days included: no request of its own.
    expect(ceRequests).toBe(2);
    expect(first.snapshot.costExplorerRequests).toBe(2);
    expect(first.snapshot.customers.find((c) => c.customerId === 'initech')?.lookbackDaily).toHaveLength(16);
    expect(first.anomalies.day).toBe('2026-11-13');
    expect(first.anomalies.anomalies.map((a) => `${a.customerId} ${a.day} ${a.status}`)).toEqual(['initech 2026-11-13 sent']);

    const [message] = await anomalyMessages();
    const initech = first.anomalies.anomalies[0]!;
    expect(message?.attributes).toEqual({
      type: 'cost-anomaly',
      customer: 'initech',
      day: '2026-11-13',
      period: '2026-11',
      expected: (initech.expected / 1e6).toFixed(6),
      actual: (initech.actual / 1e6).toFixed(6),
    });
    expect(message?.message).toContain('Largest services in 2026-11 so far: Amazon Elastic Compute Cloud - Compute');

    await Promise.all([runCostCheck(ports(), demoConfig, options), runCostCheck(ports(), demoConfig, options)]);
    const again = await runCostCheck(ports(), demoConfig, options);
    expect(again.anomalies.anomalies.map((a) => a.status)).toEqual(['already-sent']);
    expect(await anomalyMessages()).toHaveLength(1);

    const report = toCostReport(again.snapshot, demoConfig, again.alerts, again.anomalies);
    expect(report.anomalies).toMatchObject({ enabled: true, day: '2026-11-13', found: [{ customerId: 'initech', status: 'already-sent' }] });
    const summary = renderSummary(again.snapshot, demoConfig, again.alerts, { dryRun: false, anomalies: again.anomalies });
    expect(summary).toContain('### Cost anomalies');
    expect(summary).toMatch(/\| Initech \(`initech`\) \| 2026-11-13 \| \$\d+\.\d\d \| \$\d+\.\d\d \| \d\.\d× \| Amazon Elastic Compute Cloud - Compute, /);
  });

  it('finds nothing on the demo data and writes no anomaly marker', async () => {
    await moto.seedCostAndUsage(pages(false));
    const { anomalies } = await runCostCheck(ports(), demoConfig, options);
    expect(anomalies).toMatchObject({ day: '2026-11-13', anomalies: [] });
    expect(await anomalyMessages()).toEqual([]);
    const markers = await aws.dynamo.send(new ScanCommand({ TableName: table }));
    expect(markers.Items?.filter((m) => String(m.pk).length > 'ALERT#2026-11'.length)).toEqual([]);
  });

  it('gives the claim back when publishing fails, so the next run sends it', async () => {
    await moto.seedCostAndUsage(pages(true));
    const failed = await runCostCheck(ports(topicArn.replace('billing-alerts', 'no-such-topic')), demoConfig, options);
    expect(failed.anomalies.anomalies.map((a) => a.status)).toEqual(['failed']);
    const retried = await runCostCheck(ports(), demoConfig, options);
    expect(retried.anomalies.anomalies.map((a) => a.status)).toEqual(['sent']);
    expect(await anomalyMessages()).toHaveLength(1);
  });

  it('publishes nothing in a dry run or when disabled', async () => {
    await moto.seedCostAndUsage(pages(true));
    const dry = await runCostCheck(ports(), demoConfig, { ...options, dryRun: true });
    expect(dry.anomalies.anomalies.map((a) => a.status)).toEqual(['would-send']);
    const off = await runCostCheck(ports(), { ...demoConfig, anomalies: { ...demoConfig.anomalies, enabled: false } }, options);
    expect(off.anomalies).toMatchObject({ anomalies: [] });
    expect(renderSummary(off.snapshot, demoConfig, off.alerts, { dryRun: false, anomalies: off.anomalies })).toContain('Anomaly detection is off');
    expect(await anomalyMessages()).toEqual([]);
  });
});
