import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, type AwsClients } from '../../src/aws/clients.js';
import { periodOf, previousPeriod } from '../../src/period.js';
import { sampleCostCube } from '../../scripts/demo/sampleCosts.mjs';
import { costCheckPages } from '../support/costPages.js';
import { createBillingTable, scanTable } from '../support/billing.js';
import { startMoto, TEST_CREDENTIALS, type Moto } from '../support/moto.js';
import { runAction } from '../support/runAction.js';
import { startScriptedServer } from '../support/scriptedServer.js';

// A closed month, so the run does not depend on today's date.
const period = previousPeriod(periodOf(new Date()));
const table = 'billing-e2e';
const config = resolve('scripts/demo/billing.config.yaml');

let moto: Moto;
let aws: AwsClients;
let topicArn: string;

beforeAll(async () => {
  moto = await startMoto();
  aws = createAwsClients({ endpoint: moto.endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS });
  await createBillingTable(aws.dynamo, table);
  topicArn = (await aws.sns.send(new CreateTopicCommand({ Name: 'billing-alerts' }))).TopicArn!;
  await moto.seedCostAndUsage(costCheckPages(sampleCostCube({ ...period, estimated: false }), { kind: 'LINKED_ACCOUNT' }, period, 50));
});
afterAll(() => moto.stop());

const inputs = () => ({
  config,
  period: period.id,
  'budget-threshold': '2000',
  'billing-table': table,
  'sns-topic-arn': topicArn,
});

describe('the built cost-check action, run as the runner runs it', () => {
  it('writes outputs, the job summary and the JSON report, and publishes the alerts reached', async () => {
    const run = await runAction('cost-check', inputs(), moto.env);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.outputs['threshold-exceeded']).toBe('true');
    expect(run.outputs['over-allowance']).toBe('["acme"]');
    expect(run.outputs['over-allowance-count']).toBe('1');
    // 6 accounts x 20 services (3 pages of 50 groups), then 6 accounts x the month's days.
    expect(run.outputs['ce-requests']).toBe(String(3 + Math.ceil((6 * period.daysInMonth) / 50)));
    expect(run.outputs.estimated).toBe('false');
    expect(Number(run.outputs['total-cost'])).toBeGreaterThan(2000);
    expect(run.outputs.forecast).toBe(run.outputs['total-cost']);
    expect(JSON.parse(run.outputs.alerts!).every((a: { status: string }) => a.status === 'sent')).toBe(true);
    expect(JSON.parse(run.outputs['alerts-count']!)).toEqual({ sent: JSON.parse(run.outputs.alerts!).length });
    expect(run.summary).toContain(`## AWS costs for`);
    expect(run.summary).toContain('| Acme Corp (`acme`) |');
    expect(run.summary).toContain('```mermaid');
    expect(run.summary).not.toContain('Estimated');
    const report = JSON.parse(readFileSync(join(run.workdir, run.outputs['report-path']!), 'utf8'));
    expect(report.total.cost).toBe(run.outputs['total-cost']);
    expect(run.stdout).toContain('::warning title=Unmapped cost::');

    // New alerts are published several at a time: one message per alert, in any order.
    const messages = await moto.snsMessages();
    expect(messages.map((m) => `${m.attributes.customer} ${m.attributes.level}`).sort()).toEqual(
      JSON.parse(run.outputs.alerts!)
        .map((a: { scope: string; level: number }) => `${a.scope} ${a.level}`)
        .sort(),
    );
    expect(messages.length).toBeGreaterThan(0);

    // One alert marker per alert sent, keyed by period, scope, kind and level (the table's documented key scheme,
    // spelt out here), marked sent with SNS's message id.
    const alerts = JSON.parse(run.outputs.alerts!) as Array<{ scope: string; kind: 'actual' | 'forecast'; level: number }>;
    const markers = await scanTable(aws.dynamo, table);
    expect(markers).toHaveLength(alerts.length);
    expect(markers.map((m) => ({ pk: m.pk, sk: m.sk })).sort(byKey)).toEqual(
      alerts.map((a) => ({ pk: `ALERT#${period.id}`, sk: `${a.scope}#${a.kind}#${a.level}` })).sort(byKey),
    );
    for (const marker of markers) {
      expect(marker).toMatchObject({ recordType: 'alert', status: 'sent' });
      expect(marker.messageId).toEqual(expect.any(String));
      expect(marker.messageId).not.toBe('');
    }
    expect(new Set(markers.map((m) => m.messageId)).size).toBe(markers.length);
  });

  it('sends nothing new on a second run the same day', async () => {
    const before = (await moto.snsMessages()).length;
    const run = await runAction('cost-check', inputs(), moto.env);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.outputs.alerts!).map((a: { status: string }) => a.status)).not.toContain('sent');
    expect((await moto.snsMessages()).length).toBe(before);
  });

  it('fails on a bad input before any side effect, naming the input, the value and the accepted form', async () => {
    const markersBefore = (await aws.dynamo.send(new ScanCommand({ TableName: table }))).Items?.length;
    const run = await runAction('cost-check', { ...inputs(), period: '2026/11', metric: 'Cost' }, moto.env);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('::error title=Invalid input or billing config (nothing was changed)::2 problems:');
    expect(run.stdout).toContain('input period "2026/11" is not a billing period: use "current", "previous" or a month as YYYY-MM');
    expect(run.stdout).toContain('input metric is "Cost"; expected one of UnblendedCost');
    expect(existsSync(join(run.workdir, 'cost-report.json'))).toBe(false);
    expect(run.outputs).toEqual({});
    expect((await aws.dynamo.send(new ScanCommand({ TableName: table }))).Items?.length).toBe(markersBefore);
  });

  it('fails with the permission hint when Cost Explorer answers AccessDenied, and writes and sends nothing', async () => {
    // moto cannot refuse a request: Cost Explorer alone goes to a scripted server, DynamoDB and SNS stay on moto.
    const deniedTable = 'billing-e2e-denied';
    await createBillingTable(aws.dynamo, deniedTable);
    const deniedTopic = (await aws.sns.send(new CreateTopicCommand({ Name: 'billing-alerts-denied' }))).TopicArn!;
    const messagesBefore = (await moto.snsMessages()).length;
    const costExplorer = await startScriptedServer([
      {
        status: 400,
        body: { __type: 'AccessDeniedException', Message: 'User: arn:aws:sts::123456789012:assumed-role/ci is not authorized to perform: ce:GetCostAndUsage' },
      },
    ]);
    try {
      const run = await runAction(
        'cost-check',
        { ...inputs(), 'billing-table': deniedTable, 'sns-topic-arn': deniedTopic },
        { ...moto.env, AWS_ENDPOINT_URL_COST_EXPLORER: costExplorer.endpoint },
      );
      expect(run.status).toBe(1);
      expect(costExplorer.requests.map((r) => r.target)).toEqual(['AWSInsightsIndexService.GetCostAndUsage']);
      const errors = run.stdout.split('\n').filter((line) => line.startsWith('::error'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain('::error title=AWS or Stripe call failed::Cost Explorer refused the request (AccessDeniedException');
      expect(errors[0]).toContain('Likely fix: Give the role assumed through OIDC ce:GetCostAndUsage');
      expect(existsSync(join(run.workdir, 'cost-report.json'))).toBe(false);
      expect(run.outputs).toEqual({});
      expect(await scanTable(aws.dynamo, deniedTable)).toEqual([]);
      expect((await moto.snsMessages()).length).toBe(messagesBefore);
    } finally {
      await costExplorer.close();
    }
  });

  it('names an endpoint that refuses connections and what to check, at once and without a stack trace', async () => {
    const closed = await new Promise<number>((done) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => done(port));
      });
    });
    const endpoint = `http://127.0.0.1:${closed}`;
    const run = await runAction('cost-check', inputs(), { ...moto.env, AWS_ENDPOINT_URL: endpoint });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      `::error title=Endpoint unreachable::Could not reach 127.0.0.1:${closed}: it refused the connection (ECONNREFUSED). ` +
        `The endpoint comes from AWS_ENDPOINT_URL=${endpoint}: start the emulator it names, or unset it to reach AWS.`,
    );
    expect(run.stdout).not.toMatch(/\s+at \S+ \(/);
    expect(existsSync(join(run.workdir, 'cost-report.json'))).toBe(false);
  });

  it('fails on an invalid billing config with the field named', async () => {
    const run = await runAction('cost-check', { ...inputs(), config: resolve('test/fixtures/invalid.config.yaml') }, moto.env);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('customers[0].stripeCustomerId is "acme"; expected a Stripe customer id such as cus_Q1a2b3');
    expect(existsSync(join(run.workdir, 'cost-report.json'))).toBe(false);
  });
});

function byKey(a: { pk: unknown; sk: unknown }, b: { pk: unknown; sk: unknown }): number {
  return `${String(a.pk)} ${String(a.sk)}`.localeCompare(`${String(b.pk)} ${String(b.sk)}`);
}
