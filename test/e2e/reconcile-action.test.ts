import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { isoDate, periodOf } from '../../src/period.js';
import { toCostReport } from '../../src/report/costReport.js';
import { acme, billingConfig, costSnapshot, globex, useBillingServices } from '../support/billing.js';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/moto.js';
import { runAction } from '../support/runAction.js';

/** The billing action's reconcile mode, from the committed dist/index.js as the runner runs it. */
const TABLE = 'billing-reconcile-e2e';
const services = useBillingServices(TABLE, [acme.stripeCustomerId, globex.stripeCustomerId]);
let workdir: string;
let topicArn: string;

beforeEach(async () => {
  const ssm = new SSMClient({ endpoint: services.moto.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  await ssm.send(new PutParameterCommand({ Name: '/stripe/prod/secret-key', Type: 'SecureString', Value: services.stripe.secretKey }));
  const sns = new SNSClient({ endpoint: services.moto.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  topicArn = (await sns.send(new CreateTopicCommand({ Name: 'billing-notices' }))).TopicArn ?? '';
  workdir = await mkdtemp(join(tmpdir(), 'reconcile-e2e-'));
  const customers = [acme, globex];
  await writeFile(join(workdir, 'billing.config.yaml'), JSON.stringify({ currency: 'usd', customers }));
  const snapshot = costSnapshot(billingConfig(customers), periodOf(new Date()).id, isoDate(new Date()), [
    { id: 'acme', daily: ['300'] },
    { id: 'globex', daily: ['90'] },
  ]);
  await writeFile(join(workdir, 'cost-report.json'), JSON.stringify(toCostReport(snapshot, billingConfig(customers))));
  return () => rm(workdir, { recursive: true, force: true });
});

function billingAction(inputs: Record<string, string>) {
  return runAction(
    'billing',
    {
      config: join(workdir, 'billing.config.yaml'),
      'cost-report': join(workdir, 'cost-report.json'),
      'billing-table': TABLE,
      'sns-topic-arn': topicArn,
      'report-path': join(workdir, 'reconcile-report.json'),
      ...inputs,
    },
    { ...services.moto.env, STRIPE_API_BASE: services.stripe.url },
  );
}

describe('the billing action in reconcile mode', () => {
  it('passes on a clean state and fails, with the drift in the summary, report, outputs and SNS, once money is lost', async () => {
    const billed = await billingAction({ mode: 'scheduled' });
    expect(billed.status).toBe(0);
    expect(services.stripe.state.invoices.size).toBe(2);

    const clean = await billingAction({ mode: 'reconcile' });
    expect(clean.status).toBe(0);
    expect(JSON.parse(clean.outputs.drifts ?? '')).toEqual([]);
    expect(clean.summary).toContain('No drift');
    const creates = services.stripe.requests.count('POST /v1/invoices');

    const invoiceOf = (customerId: string) =>
      [...services.stripe.state.invoices.values()].find((i) => (i.metadata as Record<string, string>).customerId === customerId);
    const [acmeInvoice, globexInvoice] = [invoiceOf('acme'), invoiceOf('globex')];
    services.stripe.state.invoices.delete(String(acmeInvoice!.id));
    Object.assign(globexInvoice!, { status: 'paid' });
    const drifted = await billingAction({ mode: 'reconcile' });
    expect(drifted.status).toBe(1);
    expect(drifted.stdout).toContain(`::error::1 billing drift(s) lose money: acme ${periodOf(new Date()).id} ${String(acmeInvoice!.id)} (invoice-not-billed)`);
    expect(JSON.parse(drifted.outputs.drifts ?? '')).toMatchObject([
      { kind: 'invoice-not-billed', customer: 'acme', invoice: acmeInvoice!.id, losesMoney: true },
      { kind: 'status-behind', customer: 'globex', invoice: globexInvoice!.id, losesMoney: false },
    ]);
    expect(drifted.summary).toContain('2 drifts, 1 losing money.');
    const report = JSON.parse(await readFile(join(workdir, 'reconcile-report.json'), 'utf8')) as { drifts: Array<{ kind: string; repaired?: boolean }> };
    expect(report.drifts.map((d) => `${d.kind} ${String(d.repaired)}`)).toEqual(['invoice-not-billed undefined', 'status-behind true']);
    const notices = (await services.moto.snsMessages()).filter((m) => m.attributes.type === 'billing-drift');
    expect(notices.map((m) => `${m.attributes.customer} ${m.attributes.drift} ${m.attributes.losesMoney}`)).toEqual([
      'acme invoice-not-billed true',
      'globex status-behind false',
    ]);
    // Read-only against Stripe: nothing was created, and the key never shows.
    expect(services.stripe.requests.count('POST /v1/invoices')).toBe(creates);
    expect(drifted.summary + JSON.stringify(drifted.outputs)).not.toContain(services.stripe.secretKey);
  });

  it('refuses a customer input and needs the billing table, before any side effect', async () => {
    const run = await billingAction({ mode: 'reconcile', customer: 'acme', 'billing-table': '' });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('input customer is "acme"; expected nothing: mode reconcile covers every customer');
    expect(run.stdout).toContain('input billing-table is ""; expected');
    expect(services.stripe.requests.total).toBe(0);
  });
});
