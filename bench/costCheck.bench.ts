// The cost check at scale, measured as it runs: the built action (actions/cost-check/dist/index.js) as its own
// process, against a local Cost Explorer stand-in (the real AWS JSON protocol, pages of 5,000 groups) and dynalite
// (through a proxy that counts DynamoDB requests). CPU and peak memory are the kernel's figures for the whole
// process. Baselines in the same run: a bare `node` process, and BENCH_BASELINE_DIST (an earlier build of the
// action, e.g. `git show <rev>:actions/cost-check/dist/index.js > .bench-baseline/cost-check.mjs`) on the same data.
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sampleCostCube, SAMPLE_SERVICES } from '../scripts/demo/sampleCosts.mjs';
import { loadBillingConfig } from '../src/config/load.js';
import { startDynalite } from '../test/support/dynalite.js';
import { createBillingTable, BENCH_CREDENTIALS } from './support/billingTable.js';
import { byOperation, measureAction, measureNode, startCostExplorerStandIn, startCountingProxy, total } from './support/processes.js';

const SIZES = (process.env.BENCH_CUSTOMERS ?? '1000,10000').split(',').map(Number);
// BENCH_RUNS=costs-only leaves out the two runs with alert markers (the first one writes twice per alert: minutes).
const MARKER_RUNS = process.env.BENCH_RUNS === 'costs-only' ? [] : ['first run', 'same-day re-run'];
const builds = [
  ...(process.env.BENCH_BASELINE_DIST ? [{ name: 'baseline', dist: resolve(process.env.BENCH_BASELINE_DIST) }] : []),
  { name: 'this build', dist: resolve(process.env.BENCH_DIST ?? 'actions/cost-check/dist/index.js') },
];
const period = { id: '2026-10', start: '2026-10-01', endExclusive: '2026-11-01' };
const dir = mkdtempSync(join(tmpdir(), 'bench-cost-check-'));

const empty = join(dir, 'empty.mjs');
writeFileSync(empty, '');
const bare = await measureNode([empty], {});

const dynalite = await startDynalite();
const dynamo = await startCountingProxy(dynalite.endpoint);
const rows: string[][] = [];
const configLoads: string[] = [];
const notes: string[] = [];

for (const customers of SIZES) {
  // Spend from 200 to 2,160 a month against an allowance of 1,000: about half the customers cross a level.
  const accounts = Array.from({ length: customers }, (_, i) => ({ account: String(100_000_000_000 + i), monthly: 200 + (i % 50) * 40 }));
  const cube = sampleCostCube({ accounts, services: SAMPLE_SERVICES, start: period.start, endExclusive: period.endExclusive, estimated: false });
  const config = join(dir, `billing-${customers}.yaml`);
  writeFileSync(
    config,
    `customers:\n${accounts.map((a, i) => `  - id: c${i}\n    name: Customer ${i}\n    match: "${a.account}"\n    stripeCustomerId: cus_bench${i}\n    allowance: 1000\n`).join('')}`,
  );
  configLoads.push(await configLoad(config, customers));
  const costExplorer = await startCostExplorerStandIn(cube);
  for (const build of builds) {
    const table = `bench-${customers}-${build.name.replace(/\W/g, '')}`;
    await createBillingTable(dynalite.endpoint, table);
    // Costs alone (no billing table: alerts go to the summary only), then with alert markers, twice the same day.
    // The baseline's marker runs make two sequential requests per alert: bounded to BENCH_BASELINE_MARKERS_MAX customers.
    const markerRuns = build.name === 'baseline' && customers > Number(process.env.BENCH_BASELINE_MARKERS_MAX ?? 1000) ? [] : MARKER_RUNS;
    for (const run of ['costs only', ...markerRuns]) {
      costExplorer.reset();
      dynamo.reset();
      const result = await measureAction(
        build.dist,
        {
          config,
          period: period.id,
          'budget-threshold': String(customers * 800),
          ...(run === 'costs only' ? {} : { 'billing-table': table }),
          'report-path': join(dir, 'report.json'),
        },
        {
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
          AWS_ENDPOINT_URL_COST_EXPLORER: costExplorer.endpoint,
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        },
      );
      if (result.status !== 0) notes.push(`${build.name}, ${customers} customers, ${run}: exit ${result.status}: ${result.stderr.slice(0, 300)}`);
      const outputs = Object.entries(result.outputs);
      const largest = outputs.reduce((max, [name, value]) => (Buffer.byteLength(value) > max.bytes ? { name, bytes: Buffer.byteLength(value) } : max), {
        name: '',
        bytes: 0,
      });
      rows.push([
        customers.toLocaleString('en'),
        build.name,
        run,
        `**${(result.cpuMs / 1000).toFixed(2)} s**`,
        `${result.maxRssMiB.toFixed(0)} MiB`,
        `${(result.wallMs / 1000).toFixed(1)} s`,
        `${total(costExplorer.requests)} (${(costExplorer.bytes / 1048576).toFixed(1)} MiB)`,
        `${total(dynamo.requests)} (${byOperation(dynamo.requests)})`,
        String(alertsReached(result.outputs)),
        `${largest.name} ${(largest.bytes / 1024).toFixed(1)} KiB`,
        `${(result.summaryBytes / 1024).toFixed(0)} KiB`,
      ]);
    }
  }
  await costExplorer.stop();
}
await dynamo.stop();
await dynalite.stop();

console.log(`## Cost check: the built action as a process, 20 services, a closed 31-day month

Node ${process.version}. Bare \`node\` (an empty module) in the same run: ${(bare.cpuMs / 1000).toFixed(2)} s CPU, ${bare.maxRssMiB.toFixed(0)} MiB.
Cost Explorer requests are pages (each $0.01); DynamoDB requests are every request the action made to the billing table.
Loading the config (YAML parse and validation by this build's loader, in the bench process, smaller size first): ${configLoads.join('; ')}.

| Customers | Build | Run | CPU (whole process) | Peak RSS | Wall | Cost Explorer requests (bytes) | DynamoDB requests | Alerts | Largest output | Job summary |
|--:|:--|:--|--:|--:|--:|--:|:--|--:|:--|--:|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}
${notes.map((n) => `\n> ${n}`).join('')}`);

/** CPU of this build's config loader on the bench's config: the one load an action run makes. */
async function configLoad(path: string, customers: number): Promise<string> {
  const started = process.cpuUsage();
  const config = await loadBillingConfig(path);
  const used = process.cpuUsage(started);
  if (config.customers.length !== customers) throw new Error(`the config of ${customers} customers loaded ${config.customers.length}`);
  return `${customers.toLocaleString('en')} customers (${(statSync(path).size / 1024).toFixed(0)} KiB), ${((used.user + used.system) / 1000).toFixed(0)} ms CPU`;
}

/** All alerts reached: the count output where there is one (capped list otherwise, as earlier builds wrote). */
function alertsReached(outputs: Record<string, string>): number {
  if (outputs['alerts-count']) return Object.values(JSON.parse(outputs['alerts-count']) as Record<string, number>).reduce((a, b) => a + b, 0);
  return outputs['alerts'] ? (JSON.parse(outputs['alerts']) as unknown[]).length : 0;
}
