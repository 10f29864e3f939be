// The cost anomaly pass at scale: 1,000 customers x 28 days x 20 services of a running month (29 November), ten
// customers with a planted spike on the last day. Compares the CPU time of the anomaly pass (detect, dispatch without
// a topic, summary section, report field) with the cost check it runs in, and counts Cost Explorer requests of both.
import { dispatchAlerts } from '../src/alerts/dispatch.js';
import { crossedLevels } from '../src/alerts/evaluate.js';
import { detectAnomalies } from '../src/anomalies/detect.js';
import { dispatchAnomalies } from '../src/anomalies/dispatch.js';
import { anomalyReport, renderAnomalySection } from '../src/anomalies/report.js';
import { validateBillingConfig } from '../src/config/load.js';
import { collectCosts } from '../src/costs/collect.js';
import type { CostExplorerPort, CostPage } from '../src/costs/query.js';
import { fromUnits } from '../src/money.js';
import { monthPeriod } from '../src/period.js';
import { toCostReport } from '../src/report/costReport.js';
import { renderSummary } from '../src/report/summary.js';
import { sampleCostCube, SAMPLE_SERVICES } from '../scripts/demo/sampleCosts.mjs';
import { cubeCostExplorer } from '../test/support/costPages.js';

const CUSTOMERS = 1_000;
const SPIKED = 10;
const ROUNDS = 20;
const period = monthPeriod(2026, 11);
const now = new Date('2026-11-29T06:00:00Z');
const accounts = Array.from({ length: CUSTOMERS }, (_, i) => ({ account: String(100_000_000_000 + i), monthly: 200 + (i % 50) * 40 }));
const config = validateBillingConfig({
  customers: accounts.map((a, i) => ({ id: `c${i}`, name: `Customer ${i}`, match: a.account, stripeCustomerId: `cus_bench${i}`, allowance: 100_000 })),
});
const cube = sampleCostCube({ accounts, services: SAMPLE_SERVICES, start: period.start, endExclusive: '2026-11-29' });
// Spike the last day of the first SPIKED customers: 5 times their usual cost (units: day, then account, then service).
const lastDay = cube.days.length - 1;
for (let customer = 0; customer < SPIKED; customer++) {
  const first = (lastDay * cube.accounts.length + customer) * cube.services.length;
  for (let service = 0; service < cube.services.length; service++) cube.units[first + service]! *= 5;
}

// Pages are computed once and then served from memory, so the rounds time the cost check, not the stand-in.
const standIn = cubeCostExplorer(cube).port;
const served = new Map<string, CostPage>();
let requests = 0;
const port: CostExplorerPort = {
  async getCostAndUsage(query, token) {
    requests++;
    const key = JSON.stringify([query, token]);
    const page = served.get(key) ?? (await standIn.getCostAndUsage(query, token));
    served.set(key, page);
    return page;
  },
};

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function costCheck() {
  const snapshot = await collectCosts(port, config, { period, now, metric: 'UnblendedCost', threshold: fromUnits(10_000_000) });
  const alerts = await dispatchAlerts(crossedLevels(snapshot, config), { markers: undefined, publish: undefined, dryRun: false, now });
  renderSummary(snapshot, config, alerts, { dryRun: false, reportPath: 'cost-report.json' });
  JSON.stringify(toCostReport(snapshot, config, alerts));
  return snapshot;
}

async function anomalyPass(snapshot: Awaited<ReturnType<typeof costCheck>>) {
  const scan = detectAnomalies(snapshot, config.anomalies);
  const result = {
    ...scan,
    settings: config.anomalies,
    anomalies: await dispatchAnomalies(scan.anomalies, { markers: undefined, publish: undefined, dryRun: false, now }),
  };
  renderAnomalySection(result);
  JSON.stringify(anomalyReport(result));
  return result;
}

// Warm up both paths once, then time ROUNDS of each in the same process.
const warm = await costCheck();
await anomalyPass(warm);
global.gc?.();
requests = 0;
let start = cpuMs();
let snapshot = warm;
for (let round = 0; round < ROUNDS; round++) snapshot = await costCheck();
const costCheckMs = (cpuMs() - start) / ROUNDS;
const costCheckRequests = requests / ROUNDS;

requests = 0;
start = cpuMs();
let found = 0;
for (let round = 0; round < ROUNDS; round++) found = (await anomalyPass(snapshot)).anomalies.length;
const anomalyMs = (cpuMs() - start) / ROUNDS;

console.log(`## Cost anomalies: ${CUSTOMERS.toLocaleString('en')} customers x 28 days x 20 services

| Measure | Value |
|:--|--:|
| Cost Explorer requests of the cost check (pages of both queries) | ${costCheckRequests} |
| Cost Explorer requests of the anomaly pass | ${requests} |
| CPU: cost check (collect, alerts, summary, report), mean of ${ROUNDS} | ${costCheckMs.toFixed(1)} ms |
| CPU: anomaly pass (detect, dispatch, section, report field), mean of ${ROUNDS} | ${anomalyMs.toFixed(2)} ms |
| **Anomaly pass relative to the cost check** | **${((anomalyMs / costCheckMs) * 100).toFixed(2)} %** (target under 10 %) |
| Anomalies found (${SPIKED} planted) | ${found} |
`);
