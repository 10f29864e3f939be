import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsClients, type AwsClients } from '../../src/aws/clients.js';
import { costExplorerAdapter } from '../../src/aws/costExplorer.js';
import { runCostCheck } from '../../src/costCheck/run.js';
import { fromUnits, parseAmount, sum } from '../../src/money.js';
import { snsPublisher } from '../../src/notify/sns.js';
import { monthPeriod } from '../../src/period.js';
import { dynamoAlertMarkers, STALE_CLAIM_MS } from '../../src/store/alertMarkers.js';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { sampleCostCube } from '../../scripts/demo/sampleCosts.mjs';
import { costCheckPages } from '../support/costPages.js';
import { budgetAlert } from '../support/alerts.js';
import { createBillingTable } from '../support/billing.js';
import { startMoto, TEST_CREDENTIALS, type Moto } from '../support/moto.js';
import { demoConfig } from '../support/snapshots.js';

const table = 'billing-test';
const now = new Date('2026-11-15T06:00:00Z');
const options = { period: monthPeriod(2026, 11), now, metric: 'UnblendedCost', threshold: fromUnits(1500), dryRun: false } as const;
const window = { start: '2026-11-01', endExclusive: '2026-11-15' };
// The anomaly baseline of 14 November reaches back 28 days: the daily query starts on 17 October.
const lookbackStart = '2026-10-17';
// 6 accounts x 20 services over the window in 3 pages of 50 groups, then 6 accounts x 29 days in 4 pages.
const pages = costCheckPages(
  sampleCostCube({ start: lookbackStart, endExclusive: window.endExclusive }),
  { kind: 'LINKED_ACCOUNT' },
  window,
  50,
  lookbackStart,
);

let moto: Moto;
let aws: AwsClients;
let topicArn: string;
const sentBodies: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  aws = createAwsClients({ endpoint: moto.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
  aws.costExplorer.middlewareStack.add(
    (next) => async (args) => {
      sentBodies.push(String((args.request as { body?: unknown }).body));
      return next(args);
    },
    { step: 'finalizeRequest' },
  );
});
afterAll(() => moto.stop());
beforeEach(async () => {
  await moto.reset();
  sentBodies.length = 0;
  await createBillingTable(aws.dynamo, table);
  topicArn = (await aws.sns.send(new CreateTopicCommand({ Name: 'billing-alerts' }))).TopicArn!;
  await moto.seedCostAndUsage(pages.map((page) => ({ ...page })));
});

const ports = () => ({
  costExplorer: costExplorerAdapter(aws.costExplorer),
  markers: dynamoAlertMarkers(aws.dynamo, table),
  publish: snsPublisher(aws.sns, topicArn),
});

describe('cost check against moto (Cost Explorer, DynamoDB, SNS)', () => {
  it('follows NextPageToken through every page and sums exactly', async () => {
    const { snapshot } = await runCostCheck(ports(), demoConfig, options);
    expect(snapshot.costExplorerRequests).toBe(7);
    const byService = pages.slice(0, 3).flatMap((p) => p.ResultsByTime.flatMap((d) => d.Groups.map((g) => parseAmount(g.Metrics.UnblendedCost!.Amount))));
    expect(byService).toHaveLength(120);
    expect(snapshot.total.cost).toBe(sum(byService));
    expect(sentBodies.map((b) => `${JSON.parse(b).Granularity} ${JSON.parse(b).NextPageToken}`)).toEqual([
      'MONTHLY undefined',
      'MONTHLY page-1',
      'MONTHLY page-2',
      'DAILY undefined',
      'DAILY page-1',
      'DAILY page-2',
      'DAILY page-3',
    ]);
    expect(snapshot.customers.find((c) => c.customerId === 'acme')?.lookbackDaily).toHaveLength(15);
  });

  it('sends the record-type exclusion and grouping that the config asks for', async () => {
    await runCostCheck(ports(), { ...demoConfig, excludeRecordTypes: ['Credit', 'Refund', 'Tax'] }, options);
    const common = {
      TimePeriod: { Start: '2026-11-01', End: '2026-11-15' },
      Metrics: ['UnblendedCost'],
      Filter: { Not: { Dimensions: { Key: 'RECORD_TYPE', Values: ['Credit', 'Refund', 'Tax'] } } },
    };
    expect(JSON.parse(sentBodies[0]!)).toMatchObject({
      ...common,
      Granularity: 'MONTHLY',
      GroupBy: [
        { Type: 'DIMENSION', Key: 'LINKED_ACCOUNT' },
        { Type: 'DIMENSION', Key: 'SERVICE' },
      ],
    });
    expect(JSON.parse(sentBodies[3]!)).toMatchObject({
      ...common,
      TimePeriod: { Start: lookbackStart, End: '2026-11-15' },
      Granularity: 'DAILY',
      GroupBy: [{ Type: 'DIMENSION', Key: 'LINKED_ACCOUNT' }],
    });
  });

  it('publishes each level reached once with filterable attributes; a second run sends nothing new', async () => {
    const first = await runCostCheck(ports(), demoConfig, options);
    const second = await runCostCheck(ports(), demoConfig, options);
    const messages = await moto.snsMessages();
    expect(first.alerts.filter((a) => a.status === 'sent')).toHaveLength(4);
    expect(second.alerts.map((a) => a.status)).toEqual(['already-sent', 'already-sent', 'already-sent', 'already-sent']);
    expect(messages.map((m) => `${m.attributes.customer} ${m.attributes.kind} ${m.attributes.level}`).sort()).toEqual([
      'TOTAL actual 50',
      'TOTAL forecast 100',
      'acme actual 50',
      'acme forecast 100',
    ]);
    expect(messages.find((m) => m.attributes.customer === 'acme' && m.attributes.kind === 'actual')?.attributes).toEqual({
      type: 'budget-alert',
      customer: 'acme',
      kind: 'actual',
      level: '50',
      period: '2026-11',
    });
    const markers = await aws.dynamo.send(new ScanCommand({ TableName: table }));
    expect(markers.Items?.map((m) => m.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
  });

  it('reads the period with one Query on a run with nothing new to send', async () => {
    await runCostCheck(ports(), demoConfig, options);
    const operations: string[] = [];
    aws.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        operations.push(context.commandName ?? '');
        return next(args);
      },
      { step: 'initialize', name: 'countOperations' },
    );
    try {
      const second = await runCostCheck(ports(), demoConfig, options);
      expect(second.alerts.every((a) => a.status === 'already-sent')).toBe(true);
    } finally {
      aws.dynamo.middlewareStack.remove('countOperations');
    }
    expect(operations).toEqual(['QueryCommand']);
  });

  it('sends each alert once when two runs overlap', async () => {
    await Promise.all([runCostCheck(ports(), demoConfig, options), runCostCheck(ports(), demoConfig, options), runCostCheck(ports(), demoConfig, options)]);
    expect(await moto.snsMessages()).toHaveLength(4);
  });

  it('takes over a claim left by a crashed run once it is stale, and leaves a fresh one alone', async () => {
    const claim = (scope: string, claimedAt: Date) =>
      aws.dynamo.send(
        new PutCommand({
          TableName: table,
          Item: { pk: 'ALERT#2026-11', sk: `${scope}#actual#50`, recordType: 'alert', status: 'claimed', claimedAt: claimedAt.toISOString(), expiresAt: 0 },
        }),
      );
    await claim('TOTAL', new Date(now.getTime() - STALE_CLAIM_MS - 1000));
    await claim('acme', new Date(now.getTime() - 1000));
    const { alerts } = await runCostCheck(ports(), demoConfig, options);
    expect(alerts.map((a) => `${a.scope} ${a.kind} ${a.level} ${a.status}`)).toEqual([
      'TOTAL actual 50 sent',
      'TOTAL forecast 100 sent',
      'acme actual 50 already-sent',
      'acme forecast 100 sent',
    ]);
  });

  it('lets only the holder of a claim give it back; a publisher whose claim was taken over still records the alert as sent', async () => {
    const markers = dynamoAlertMarkers(aws.dynamo, table);
    const alert = budgetAlert();
    const slow = (await markers.claim(alert, now))!;
    expect(await markers.claim(alert, now)).toBeUndefined();
    const later = new Date(now.getTime() + STALE_CLAIM_MS + 1000);
    const takeover = (await markers.claim(alert, later))!;
    expect(takeover.token).not.toBe(slow.token);
    await markers.release(alert, slow);
    expect(await markers.wasSent(alert)).toBe(false);
    expect((await aws.dynamo.send(new ScanCommand({ TableName: table }))).Items).toMatchObject([{ status: 'claimed', claimToken: takeover.token }]);
    // The slow run did publish: its record of it stands, and the new holder can no longer give the claim back.
    await markers.markSent([{ alert, claim: slow, messageId: 'late' }], later);
    expect(await markers.wasSent(alert)).toBe(true);
    await markers.release(alert, takeover);
    expect((await aws.dynamo.send(new ScanCommand({ TableName: table }))).Items).toMatchObject([{ status: 'sent', messageId: 'late' }]);
  });

  it('sends a level reached in November again in December: each period has its own markers', async () => {
    const markers = dynamoAlertMarkers(aws.dynamo, table);
    const november = budgetAlert({ estimated: false });
    const december = { ...november, period: '2026-12' };
    await markers.markSent([{ alert: november, claim: (await markers.claim(november, now))!, messageId: 'm-nov' }], now);
    expect(await markers.wasSent(december)).toBe(false);
    const decemberClaim = await markers.claim(december, new Date('2026-12-02T06:00:00Z'));
    expect(decemberClaim).toBeDefined();
    const items = (await aws.dynamo.send(new ScanCommand({ TableName: table }))).Items ?? [];
    expect(items.map((item) => `${item.pk} ${item.sk} ${item.status}`).sort()).toEqual([
      'ALERT#2026-11 acme#actual#80 sent',
      'ALERT#2026-12 acme#actual#80 claimed',
    ]);
  });

  it('publishes the other alerts and remembers none it failed to publish', async () => {
    const failing = { ...ports(), publish: snsPublisher(aws.sns, topicArn.replace('billing-alerts', 'no-such-topic')) };
    const failed = await runCostCheck(failing, demoConfig, options);
    expect(failed.alerts.map((a) => a.status)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect((await aws.dynamo.send(new ScanCommand({ TableName: table }))).Items).toEqual([]);
    const retried = await runCostCheck(ports(), demoConfig, options);
    expect(retried.alerts.map((a) => a.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
  });

  it('writes nothing and publishes nothing in a dry run', async () => {
    const { alerts } = await runCostCheck(ports(), demoConfig, { ...options, dryRun: true });
    expect(alerts.map((a) => a.status)).toEqual(['would-send', 'would-send', 'would-send', 'would-send']);
    expect(await moto.snsMessages()).toEqual([]);
    expect((await aws.dynamo.send(new ScanCommand({ TableName: table }))).Items).toEqual([]);
  });
});
