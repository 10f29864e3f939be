#!/usr/bin/env node
// `npm run demo`: the product end to end with no account. The built cost-check and billing actions run as the Actions
// runner runs them, then a Stripe webhook goes through the Lambda bundle. AWS is a local stand-in (scripts/demo/
// awsStandIn.mjs, DynamoDB kept in .demo/), Stripe the project's local Stripe server. The period is pinned to
// October 2026, a closed month, so the output does not depend on today's date. A second run bills and alerts nothing
// again, and says so.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleLambda } from './lambdaBundle.mjs';
import { DEMO_ACCOUNT, startAwsStandIn } from './demo/awsStandIn.mjs';
import { sampleCostCube } from './demo/sampleCosts.mjs';
import { markdownForTerminal } from './demo/terminal.mjs';

const require = createRequire(import.meta.url);
const { CreateTableCommand, DynamoDBClient, GetItemCommand, ResourceInUseException } = await import('@aws-sdk/client-dynamodb');
const { default: Stripe } = await import('stripe');

// DEMO_STATE_DIR moves the state (DynamoDB data, summaries, outputs, report) elsewhere, e.g. a temp dir in tests.
const state = resolve(process.env.DEMO_STATE_DIR || '.demo');
if (process.argv.includes('--reset')) rmSync(state, { recursive: true, force: true });
mkdirSync(state, { recursive: true });
// The stand-in Stripe server and the Lambda bundle are built per run (two demos at once do not share files), under
// node_modules so that the bundled server finds the stripe package.
const build = resolve('node_modules/.cache/demo', String(process.pid));
mkdirSync(build, { recursive: true });

const PERIOD = { id: '2026-10', start: '2026-10-01', endExclusive: '2026-11-01' };
// The Stripe stand-in's clock: early November, inside Stripe's 35-day window for October's meter events.
const STRIPE_NOW = new Date('2026-11-05T06:00:00Z');
const CONFIG = 'scripts/demo/billing.config.yaml';
const BILLING_TABLE = 'billing-demo';
const SUBSCRIPTIONS_TABLE = 'subscriptions-demo';
const TOPIC_ARN = `arn:aws:sns:us-east-1:${DEMO_ACCOUNT}:billing-demo`;
const WEBHOOK_SECRET = 'whsec_demo0123456789abcdef0123456789';

const stripeServer = await startStripeStandIn();
const aws = await startAwsStandIn({
  state,
  costs: sampleCostCube({ start: PERIOD.start, endExclusive: PERIOD.endExclusive, estimated: false }),
  parameters: { '/stripe/prod/secret-key': stripeServer.secretKey, '/stripe/prod/webhook-secret': WEBHOOK_SECRET },
});
const awsEnv = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'demo',
  AWS_SECRET_ACCESS_KEY: 'demo',
  AWS_ENDPOINT_URL: aws.endpoint,
  NODE_NO_WARNINGS: '1',
};
const dynamo = new DynamoDBClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' } });
await createTables();
const alreadyPublished = aws.published.length;

try {
  heading('1. Cost check (actions/cost-check), October 2026');
  const costCheck = await runAction('cost-check', {
    INPUT_CONFIG: CONFIG,
    INPUT_PERIOD: PERIOD.id,
    'INPUT_BUDGET-THRESHOLD': '2000',
    'INPUT_BILLING-TABLE': BILLING_TABLE,
    'INPUT_SNS-TOPIC-ARN': TOPIC_ARN,
    'INPUT_REPORT-PATH': join(state, 'cost-report.json'),
  });
  console.log(markdownForTerminal(costCheck.summary));
  const alerts = JSON.parse(costCheck.outputs.alerts ?? '[]');
  const sent = aws.published.slice(alreadyPublished);
  console.log(
    sent.length > 0
      ? `Wrote ${sent.length} alert marker(s) to DynamoDB and published ${sent.length} alert(s) to SNS:\n${sent.map((m) => `  📣 ${m.subject}`).join('\n')}`
      : alerts.length > 0
        ? `No alert published: each of the ${alerts.length} level(s) reached was published by an earlier run (its marker is in DynamoDB).`
        : 'No budget level reached.',
  );

  heading('2. Billing (actions/billing, mode true-up) against the local Stripe server');
  const billing = await runAction('billing', {
    INPUT_CONFIG: CONFIG,
    INPUT_PERIOD: PERIOD.id,
    INPUT_MODE: 'true-up',
    'INPUT_COST-REPORT': join(state, 'cost-report.json'),
    'INPUT_BILLING-TABLE': BILLING_TABLE,
    'INPUT_SNS-TOPIC-ARN': TOPIC_ARN,
    STRIPE_API_BASE: stripeServer.url,
  });
  console.log(markdownForTerminal(billing.summary));
  const invoices = JSON.parse(billing.outputs.invoices ?? '[]');
  console.log(
    invoices.length > 0
      ? `Created ${invoices.length} Stripe invoice(s) and wrote their ledger entries and invoice records to DynamoDB:\n${invoices.map((i) => `  🧾 ${i.id} ${i.customer} ${i.amount} ${i.currency.toUpperCase()} (${i.status})`).join('\n')}`
      : 'No invoice created: the ledger in DynamoDB shows October already trued up, so nothing was sent to Stripe.',
  );

  heading('3. Stripe webhook through the Lambda bundle (lambda/billing-handler)');
  if (invoices.length === 0) {
    console.log('No new invoice, so no payment to report: the invoice records stay as the first run left them.');
  } else {
    const invoice = invoices[0];
    const delivery = await invoicePaidDelivery(invoice.id);
    const handler = loadWebhookHandler();
    const response = await handler(delivery);
    const record = await invoiceRecord(invoice.id);
    console.log(`POST /webhook invoice.paid for ${invoice.id}: ${response.statusCode} ${response.body}`);
    console.log(`DynamoDB invoice record ${invoice.id}: status ${record?.status ?? '(missing)'}; SNS: ${aws.published.at(-1)?.subject ?? 'nothing'}`);
  }
  console.log(`\nState: ${state} (summaries, outputs, cost-report.json, DynamoDB). Run \`npm run demo\` again: nothing is billed or alerted twice.`);
  console.log('`npm run demo -- --reset` starts over.');
} finally {
  aws.close();
  dynamo.destroy();
  await stripeServer.close();
  rmSync(build, { recursive: true, force: true });
}

function heading(text) {
  console.log(`\n${process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text}\n${'─'.repeat(text.length)}`);
}

/** test/support/stripeServer.ts, bundled for plain Node (it is TypeScript), with one Stripe customer per config customer. */
async function startStripeStandIn() {
  const { buildSync } = require('esbuild');
  const outfile = join(build, 'stripeServer.mjs');
  buildSync({
    entryPoints: ['test/support/stripeServer.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
  const { startStripeServer } = await import(pathToFileURL(outfile).href);
  const server = await startStripeServer();
  server.setNow(STRIPE_NOW);
  for (const id of readFileSync(CONFIG, 'utf8').match(/cus_\w+/g)) server.addCustomer(id, 'usd');
  return server;
}

/** A delivery of `invoice.paid` as API Gateway hands it to the Lambda, signed as Stripe signs it. */
async function invoicePaidDelivery(invoiceId) {
  const stripe = new Stripe(stripeServer.secretKey, { host: '127.0.0.1', port: Number(new URL(stripeServer.url).port), protocol: 'http' });
  const invoice = await stripe.invoices.retrieve(invoiceId);
  const template = JSON.parse(readFileSync('test/fixtures/stripe-events/invoice.paid.json', 'utf8'));
  const paidAt = Math.floor(STRIPE_NOW.getTime() / 1000) + 3600;
  const event = {
    ...template,
    id: `evt_demo_paid_${invoiceId}`,
    created: paidAt,
    data: { object: { ...template.data.object, ...invoice, status: 'paid', amount_paid: invoice.amount_due, amount_remaining: 0 } },
  };
  const payload = JSON.stringify(event);
  return {
    headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET }) },
    body: payload,
    isBase64Encoded: false,
  };
}

/** The Lambda bundle built as `npm run build` builds it, loaded as a fresh container with the stack's environment. */
function loadWebhookHandler() {
  const bundle = bundleLambda('lambda/billing-handler/handler.ts', join(build, 'handler.cjs'));
  Object.assign(process.env, awsEnv, { BILLING_TABLE, SUBSCRIPTIONS_TABLE, SNS_TOPIC_ARN: TOPIC_ARN, WEBHOOK_SECRET_PARAMETER: '/stripe/prod/webhook-secret' });
  // The handler logs JSON lines for CloudWatch (a log line and its metrics); the demo prints its own line instead.
  const { handler } = require(bundle);
  return async (delivery) => {
    const write = process.stdout.write;
    process.stdout.write = () => true;
    try {
      return await handler(delivery);
    } finally {
      process.stdout.write = write;
    }
  };
}

async function invoiceRecord(invoiceId) {
  const { Item } = await dynamo.send(
    new GetItemCommand({ TableName: BILLING_TABLE, Key: { pk: { S: `INVOICE#${invoiceId}` }, sk: { S: 'INVOICE' } }, ConsistentRead: true }),
  );
  return Item && { status: Item.status?.S };
}

async function runAction(name, inputs) {
  const summaryPath = join(state, `${name}-summary.md`);
  const outputPath = join(state, `${name}-outputs.txt`);
  writeFileSync(summaryPath, '');
  writeFileSync(outputPath, '');
  // The stand-ins live in this process, so the action runs as a child without blocking this event loop.
  const child = spawn(process.execPath, [`actions/${name}/dist/index.js`], {
    env: { ...process.env, ...awsEnv, GITHUB_STEP_SUMMARY: summaryPath, GITHUB_OUTPUT: outputPath, ...inputs },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [status] = await once(child, 'exit');
  // Workflow commands become plain lines here; on a runner they are annotations.
  for (const line of stdout.split('\n').filter((l) => /^::(warning|error|notice)/.test(l))) {
    console.log(line.replace(/^::(\w+)[^:]*::/, (_, kind) => (kind === 'error' ? '✖ ' : kind === 'notice' ? 'ℹ ' : '⚠ ')));
  }
  process.stderr.write(stderr);
  if (status !== 0) throw new Error(`actions/${name} failed (exit ${status})`);
  return { summary: readFileSync(summaryPath, 'utf8'), outputs: parseOutputs(readFileSync(outputPath, 'utf8')) };
}

function parseOutputs(text) {
  const outputs = {};
  for (const match of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[match[1]] = match[3];
  return outputs;
}

async function createTables() {
  const table = (TableName, keys, index) =>
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...keys, ...(index?.keys ?? [])].filter(Boolean).map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      KeySchema: keys.map((name, i) => ({ AttributeName: name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      ...(index
        ? {
            GlobalSecondaryIndexes: [
              {
                IndexName: index.name,
                KeySchema: index.keys.map((name, i) => ({ AttributeName: name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
                Projection: { ProjectionType: 'ALL' },
              },
            ],
          }
        : {}),
    });
  // The two tables as infrastructure.yaml declares them (src/records/keys.ts).
  for (const command of [
    table(BILLING_TABLE, ['pk', 'sk'], { name: 'byCustomer', keys: ['gsi1pk', 'gsi1sk'] }),
    table(SUBSCRIPTIONS_TABLE, ['subscriptionId'], { name: 'byStripeCustomer', keys: ['stripeCustomerId', 'subscriptionId'] }),
  ]) {
    try {
      await dynamo.send(command);
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
}
