#!/usr/bin/env node
// `npm run demo`: the real cost-check action (its built dist/index.js, run as the Actions runner runs it) on an
// embedded default: a month of sample Cost Explorer data served over the real AWS protocol and an in-process
// DynamoDB (dynalite) kept in .demo/ so a second run shows that alerts already sent are not sent again.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { costAndUsagePage, sampleCostCube } from './demo/sampleCosts.mjs';
import { markdownForTerminal } from './demo/terminal.mjs';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite');
const { CreateTableCommand, DynamoDBClient, ResourceInUseException } = await import('@aws-sdk/client-dynamodb');

// DEMO_STATE_DIR moves the state (dynalite data, summary, outputs, report) elsewhere, e.g. a temp dir in tests.
const state = process.env.DEMO_STATE_DIR || '.demo';
if (process.argv.includes('--reset')) rmSync(state, { recursive: true, force: true });
mkdirSync(state, { recursive: true });
const table = 'billing-demo';
const credentials = { accessKeyId: 'demo', secretAccessKey: 'demo' };

// On the 1st there is no complete day of the new month yet: show last month instead.
const today = new Date();
const period = today.getUTCDate() === 1 ? 'previous' : 'current';
const monthStart = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - (period === 'previous' ? 1 : 0), 1));
const windowEnd = period === 'previous' ? new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1)) : today;
const costs = sampleCostCube({ start: iso(monthStart), endExclusive: iso(windowEnd), estimated: true });

const dynamo = dynalite({ path: join(state, 'dynamodb'), createTableMs: 0 });
dynamo.listen(0, '127.0.0.1');
await once(dynamo, 'listening');
const dynamoUrl = `http://127.0.0.1:${dynamo.address().port}`;
await createBillingTable(dynamoUrl);

const costExplorer = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    // Answers GetCostAndUsage for the request's granularity, grouping and page, as Cost Explorer does.
    const page = costAndUsagePage(costs, JSON.parse(body || '{}'));
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    response.end(JSON.stringify(page));
  });
});
costExplorer.listen(0, '127.0.0.1');
await once(costExplorer, 'listening');

const summaryPath = join(state, 'cost-summary.md');
const outputPath = join(state, 'outputs.txt');
writeFileSync(summaryPath, '');
writeFileSync(outputPath, '');
// The servers live in this process, so the action runs as a child without blocking this event loop.
const run = await runAction({
  ...process.env,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  AWS_ENDPOINT_URL_COST_EXPLORER: `http://127.0.0.1:${costExplorer.address().port}`,
  AWS_ENDPOINT_URL_DYNAMODB: dynamoUrl,
  GITHUB_STEP_SUMMARY: summaryPath,
  GITHUB_OUTPUT: outputPath,
  INPUT_CONFIG: 'scripts/demo/billing.config.yaml',
  INPUT_PERIOD: period,
  'INPUT_BUDGET-THRESHOLD': '2000',
  'INPUT_BILLING-TABLE': table,
  'INPUT_REPORT-PATH': join(state, 'cost-report.json'),
  NODE_NO_WARNINGS: '1',
});
costExplorer.close();
dynamo.close();

// Workflow commands become plain lines here; on a runner they are annotations.
const annotations = run.stdout.split('\n').filter((l) => /^::(warning|error|notice)/.test(l));
for (const line of annotations) console.log(line.replace(/^::(\w+)[^:]*::/, (_, kind) => (kind === 'error' ? '✖ ' : '⚠ ')));
process.stderr.write(run.stderr);
if (run.status !== 0) process.exit(run.status ?? 1);

console.log(markdownForTerminal(readFileSync(summaryPath, 'utf8')));
const outputs = readFileSync(outputPath, 'utf8');
const alerts = JSON.parse(/alerts<<(\S+)\n([\s\S]*?)\n\1/.exec(outputs)?.[2] ?? '[]');
const fresh = alerts.filter((a) => a.status !== 'already-sent');
console.log(
  fresh.length > 0
    ? `With an SNS topic (input sns-topic-arn) this run would have published ${fresh.length} alert(s):\n${fresh.map((a) => `  📣 ${a.scope}: ${a.kind} ${a.level}%`).join('\n')}`
    : 'Every alert reached was already raised by an earlier run: nothing new to publish.',
);
console.log(`\nSummary markdown: ${summaryPath} · JSON report: ${join(state, 'cost-report.json')}`);
console.log('Run `npm run demo` again: alerts already sent are not sent again (`npm run demo -- --reset` starts over).');

async function createBillingTable(endpoint) {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        // The billing table as infrastructure.yaml declares it (src/store/keys.ts).
        AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byCustomer',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  client.destroy();
}

async function runAction(env) {
  const child = spawn(process.execPath, ['actions/cost-check/dist/index.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [status] = await once(child, 'exit');
  return { status, stdout, stderr };
}

function iso(date) {
  return date.toISOString().slice(0, 10);
}
