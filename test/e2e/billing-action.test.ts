import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CostSnapshot } from '../../src/costs/types.js';
import { toDecimalString } from '../../src/money.js';
import { isoDate, periodOf } from '../../src/period.js';
import { acme, billingConfig, costSnapshot, globex, scanTable, useBillingServices } from '../support/billing.js';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/moto.js';

/** The committed dist/index.js, run as the runner runs it: INPUT_* variables, summary and output files. */
const ACTION = join(process.cwd(), 'actions/billing/dist/index.js');
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

/** The cost report as the cost check writes it: the snapshot with every amount as a decimal string. */
function reportJson(snapshot: CostSnapshot): string {
  const decimal = toDecimalString;
  const lines = (list: ReadonlyArray<{ amount: number }>) => list.map((line) => ({ ...line, amount: decimal(line.amount) }));
  return JSON.stringify({
    ...snapshot,
    customers: snapshot.customers.map((customer) => ({
      ...customer,
      cost: decimal(customer.cost),
      allowance: decimal(customer.allowance),
      forecast: decimal(customer.forecast),
      services: lines(customer.services),
      daily: customer.daily.map(decimal),
    })),
    unmapped: { cost: decimal(snapshot.unmapped.cost), keys: lines(snapshot.unmapped.keys) },
    total: {
      cost: decimal(snapshot.total.cost),
      forecast: decimal(snapshot.total.forecast),
      threshold: decimal(snapshot.total.threshold),
      services: lines(snapshot.total.services),
      daily: snapshot.total.daily.map(decimal),
    },
  });
}

async function runAction(inputs: Record<string, string>, customers = [acme, globex], spend = [{ id: 'acme', daily: ['300'] }, { id: 'globex', daily: ['10'] }]) {
  const today = isoDate(new Date());
  const config = billingConfig(customers);
  await writeFile(join(workdir, 'billing.config.yaml'), JSON.stringify({ currency: 'usd', customers }));
  await writeFile(join(workdir, 'cost-report.json'), reportJson(costSnapshot(config, periodOf(new Date()).id, today, spend)));
  const summaryFile = join(workdir, 'summary.md');
  const outputFile = join(workdir, 'output.txt');
  await writeFile(summaryFile, '');
  await writeFile(outputFile, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...services.moto.env,
    STRIPE_API_BASE: services.stripe.url,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_OUTPUT: outputFile,
    'INPUT_CONFIG': join(workdir, 'billing.config.yaml'),
    'INPUT_COST-REPORT': join(workdir, 'cost-report.json'),
    'INPUT_BILLING-TABLE': TABLE,
    'INPUT_STRIPE-SECRET-PARAMETER': '/stripe/secret-key',
    'INPUT_SNS-TOPIC-ARN': topicArn,
    'INPUT_MODE': 'scheduled',
    'INPUT_DRY-RUN': 'false',
    ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
  };
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [ACTION], { env, cwd: workdir }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
  });
  return { ...result, summary: await readFile(summaryFile, 'utf8'), outputs: parseOutputs(await readFile(outputFile, 'utf8')) };
}

/** GITHUB_OUTPUT heredoc format: name<<delimiter / value / delimiter. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[index] ?? '');
    if (!match) continue;
    const value: string[] = [];
    while (lines[++index] !== match[2]) value.push(lines[index] ?? '');
    outputs[match[1] ?? ''] = value.join('\n');
  }
  return outputs;
}

describe('the billing action as the runner runs it', () => {
  it('bills the overage, writes records, notices, summary and outputs, and never shows the Stripe key', async () => {
    const result = await runAction({});
    expect(result.code).toBe(0);
    const invoices = JSON.parse(result.outputs.invoices ?? '[]') as Array<Record<string, string>>;
    // acme: 300 * 1.1 = 330 - 100 allowance = 230.00; globex: 10 is within its allowance of 50.
    expect(invoices).toMatchObject([{ customer: 'acme', amount: '230.00', currency: 'usd', status: 'open' }]);
    expect(result.outputs['billed-total']).toBe('230.00');
    const plan = JSON.parse(result.outputs.plan ?? '{}') as { customers: Array<Record<string, unknown>> };
    expect(plan.customers.map((customer) => [customer.customer, customer.amountNow])).toEqual([['acme', '230.00'], ['globex', '0.00']]);
    expect(result.summary).toContain(`[dashboard](https://dashboard.stripe.com/test/invoices/${invoices[0]?.id})`);
    expect(result.stdout).toContain(`::add-mask::${services.stripe.secretKey}`);
    const stdoutWithoutMask = result.stdout.replace(`::add-mask::${services.stripe.secretKey}`, '');
    for (const text of [result.summary, JSON.stringify(result.outputs), result.stderr, stdoutWithoutMask]) expect(text).not.toContain(services.stripe.secretKey);

    const records = await scanTable(services.dynamo, TABLE);
    expect(records.filter((item) => item.recordType === 'invoice')).toMatchObject([{ customerId: 'acme', amountDue: 23000, status: 'open' }]);
    expect(records.filter((item) => item.recordType === 'ledger')).toMatchObject([{ customerId: 'acme', status: 'completed' }]);
    expect((await services.moto.snsMessages()).map((message) => message.attributes.customer)).toEqual(['acme']);

    const again = await runAction({});
    expect(again.code).toBe(0);
    expect(JSON.parse(again.outputs.invoices ?? '')).toEqual([]);
    expect(services.stripe.state.invoices.size).toBe(1);
  });

  it('prints the plan on a dry run and touches nothing, not even the Stripe key', async () => {
    const result = await runAction({ 'dry-run': 'true', 'stripe-secret-parameter': '/no/such/parameter' });
    expect(result.code).toBe(0);
    expect(result.summary).toContain('Dry run: this is the plan.');
    expect(result.summary).toContain('invoice $230.00');
    expect(result.outputs['billed-total']).toBe('0.00');
    expect(services.stripe.requests.total).toBe(0);
    expect(await scanTable(services.dynamo, TABLE)).toEqual([]);
    expect(await services.moto.snsMessages()).toEqual([]);
  });

  it('annotates a customer that cannot be billed, bills the others and fails the run at the end', async () => {
    const ghost = { ...globex, id: 'ghost', name: 'Ghost Ltd', match: '444444444444', stripeCustomerId: 'cus_unknown01' };
    const result = await runAction({}, [ghost, acme], [{ id: 'ghost', daily: ['300'] }, { id: 'acme', daily: ['300'] }]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/::error title=Billing failed for Ghost Ltd \(ghost\)::.*No such customer: 'cus_unknown01'/);
    expect(result.stdout).toContain('::error::Billing failed for 1 customer(s): ghost.');
    expect(JSON.parse(result.outputs.invoices ?? '')).toMatchObject([{ customer: 'acme' }]);
    expect(result.summary).toContain('### Failed');
  });

  it('fails before any side effect when an input is invalid, naming it', async () => {
    const result = await runAction({ mode: 'fixed-amount', amount: 'ten' });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('customer is missing');
    expect(result.stdout).toContain('amount "ten" is not accepted');
    expect(services.stripe.requests.total).toBe(0);
  });
});
