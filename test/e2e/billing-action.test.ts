import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { toCostReport } from '../../src/report/costReport.js';
import { isoDate, periodOf } from '../../src/period.js';
import { acme, billingConfig, costSnapshot, globex, scanTable, useBillingServices } from '../support/billing.js';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/moto.js';
import { runAction } from '../support/runAction.js';

/** The committed dist/index.js, run as the runner runs it: INPUT_* variables, summary and output files. */
const TABLE = 'billing-e2e';

const services = useBillingServices(TABLE, [acme.stripeCustomerId, globex.stripeCustomerId]);
let workdir: string;
let topicArn: string;

beforeEach(async () => {
  const ssm = new SSMClient({ endpoint: services.moto.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  await ssm.send(new PutParameterCommand({ Name: '/stripe/secret-key', Type: 'SecureString', Value: services.stripe.secretKey }));
  const sns = new SNSClient({ endpoint: services.moto.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  topicArn = (await sns.send(new CreateTopicCommand({ Name: 'billing-notices' }))).TopicArn ?? '';
  workdir = await mkdtemp(join(tmpdir(), 'billing-e2e-'));
  return () => rm(workdir, { recursive: true, force: true });
});

async function runBilling(
  inputs: Record<string, string>,
  customers = [acme, globex],
  spend = [
    { id: 'acme', daily: ['300'] },
    { id: 'globex', daily: ['10'] },
  ],
) {
  const config = billingConfig(customers);
  await writeFile(join(workdir, 'billing.config.yaml'), JSON.stringify({ currency: 'usd', customers }));
  const snapshot = costSnapshot(config, periodOf(new Date()).id, isoDate(new Date()), spend);
  await writeFile(join(workdir, 'cost-report.json'), JSON.stringify(toCostReport(snapshot, config)));
  const run = await runAction(
    'billing',
    {
      config: join(workdir, 'billing.config.yaml'),
      'cost-report': join(workdir, 'cost-report.json'),
      'billing-table': TABLE,
      'stripe-secret-parameter': '/stripe/secret-key',
      'sns-topic-arn': topicArn,
      mode: 'scheduled',
      'dry-run': 'false',
      ...inputs,
    },
    { ...services.moto.env, STRIPE_API_BASE: services.stripe.url },
  );
  return { ...run, code: run.status };
}

describe('the billing action as the runner runs it', () => {
  it('bills the overage, writes records, notices, summary and outputs, and never shows the Stripe key', async () => {
    const result = await runBilling({});
    expect(result.code).toBe(0);
    const invoices = JSON.parse(result.outputs.invoices ?? '[]') as Array<Record<string, string>>;
    // acme: 300 * 1.1 = 330 - 100 allowance = 230.00; globex: 10 is within its allowance of 50.
    expect(invoices).toMatchObject([{ customer: 'acme', amount: '230.00', currency: 'usd', status: 'open' }]);
    expect(result.outputs['billed-total']).toBe('230.00');
    const plan = JSON.parse(result.outputs.plan ?? '{}') as { customers: Array<Record<string, unknown>> };
    expect(plan.customers.map((customer) => [customer.customer, customer.amountNow])).toEqual([
      ['acme', '230.00'],
      ['globex', '0.00'],
    ]);
    expect(result.summary).toContain(`[dashboard](https://dashboard.stripe.com/test/invoices/${invoices[0]?.id})`);
    expect(result.stdout).toContain(`::add-mask::${services.stripe.secretKey}`);
    const stdoutWithoutMask = result.stdout.replace(`::add-mask::${services.stripe.secretKey}`, '');
    for (const text of [result.summary, JSON.stringify(result.outputs), result.stderr, stdoutWithoutMask]) {
      expect(text).not.toContain(services.stripe.secretKey);
    }

    const records = await scanTable(services.dynamo, TABLE);
    expect(records.filter((item) => item.recordType === 'invoice')).toMatchObject([{ customerId: 'acme', amountDue: 23000, status: 'open' }]);
    expect(records.filter((item) => item.recordType === 'ledger')).toMatchObject([{ customerId: 'acme', status: 'completed' }]);
    expect((await services.moto.snsMessages()).map((message) => message.attributes.customer)).toEqual(['acme']);

    const again = await runBilling({});
    expect(again.code).toBe(0);
    expect(JSON.parse(again.outputs.invoices ?? '')).toEqual([]);
    expect(services.stripe.state.invoices.size).toBe(1);
  });

  it('prints the plan on a dry run and touches nothing, not even the Stripe key', async () => {
    const result = await runBilling({ 'dry-run': 'true', 'stripe-secret-parameter': '/no/such/parameter' });
    expect(result.code).toBe(0);
    expect(result.summary).toContain('Dry run: this is the plan.');
    expect(result.summary).toContain('invoice $230.00');
    const plan = JSON.parse(result.outputs.plan ?? '{}') as { customers: Array<{ actions: Array<{ lines?: unknown }> }> };
    // The fixture's cost report has one service: the invoice it plans has one line of the whole amount.
    expect(plan.customers[0]?.actions[0]?.lines).toEqual([{ description: 'Amazon Elastic Compute Cloud - Compute', amount: '230.00' }]);
    expect(result.outputs['billed-total']).toBe('0.00');
    expect(services.stripe.requests.total).toBe(0);
    expect(await scanTable(services.dynamo, TABLE)).toEqual([]);
    expect(await services.moto.snsMessages()).toEqual([]);
  });

  it('annotates a customer that cannot be billed, bills the others and fails the run at the end', async () => {
    const ghost = { ...globex, id: 'ghost', name: 'Ghost Ltd', match: '444444444444', stripeCustomerId: 'cus_unknown01' };
    const result = await runBilling(
      {},
      [ghost, acme],
      [
        { id: 'ghost', daily: ['300'] },
        { id: 'acme', daily: ['300'] },
      ],
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/::error title=Billing failed for Ghost Ltd \(ghost\)::.*No such customer: 'cus_unknown01'/);
    expect(result.stdout).toContain('::error::Billing failed for 1 customer(s): ghost.');
    expect(JSON.parse(result.outputs.invoices ?? '')).toMatchObject([{ customer: 'acme' }]);
    expect(result.summary).toContain('### Failed');
  });

  it('fails before any side effect on a cost report it cannot read, naming the file and the problem', async () => {
    const broken = join(workdir, 'broken-report.json');
    await writeFile(broken, '{"schemaVersion": 1, "period": "20');
    const result = await runBilling({ 'cost-report': broken });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^::error title=Invalid input or billing config \(nothing was changed\)::cost report ".*broken-report\.json" is not a cost report written by the cost-check action \(.*JSON.*\); re-run the cost check$/m,
    );
    expect(result.outputs).toEqual({});
    expect(services.stripe.requests.total).toBe(0);
    expect(services.stripe.state.invoices.size).toBe(0);
    expect(await scanTable(services.dynamo, TABLE)).toEqual([]);
    expect(await services.moto.snsMessages()).toEqual([]);
  });

  it('fails before any side effect when an input is invalid, naming it', async () => {
    const result = await runBilling({ mode: 'fixed-amount', amount: 'ten' });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('input customer is ""; expected the id of a customer');
    expect(result.stdout).toContain('input amount is "ten"; expected a positive amount');
    expect(services.stripe.requests.total).toBe(0);
  });
});
