// Cost check at scale: 1,000 customers x 31 days x 20 services (620,000 Cost Explorer groups), one page per day as
// Cost Explorer pages large results. Measures requests, CPU time of the processing (the sample generator's own time
// measured separately in the same process and subtracted), peak memory, summary and report sizes.
import { dispatchAlerts } from '../src/alerts/dispatch.js';
import { crossedLevels } from '../src/alerts/evaluate.js';
import { validateBillingConfig } from '../src/config/load.js';
import { collectCosts } from '../src/costs/collect.js';
import type { CostExplorerPort } from '../src/costs/query.js';
import { fromUnits } from '../src/money.js';
import { monthPeriod } from '../src/period.js';
import { toCostReport } from '../src/report/costReport.js';
import { renderSummary } from '../src/report/summary.js';
import { iterateSampleCostPages, SAMPLE_SERVICES } from '../scripts/demo/sampleCosts.mjs';
import { toCostPage } from '../test/support/costPages.js';

const CUSTOMERS = 1_000;
const period = monthPeriod(2026, 10);
const now = new Date('2026-11-02T06:00:00Z');
const accounts = Array.from({ length: CUSTOMERS }, (_, i) => ({ account: String(100_000_000_000 + i), monthly: 200 + (i % 50) * 40 }));
const config = validateBillingConfig({
  customers: accounts.map((a, i) => ({ id: `c${i}`, name: `Customer ${i}`, match: a.account, stripeCustomerId: `cus_bench${i}`, allowance: 1000 })),
});
const pages = () => iterateSampleCostPages({ accounts, services: SAMPLE_SERVICES, start: period.start, endExclusive: period.endExclusive, daysPerPage: 1 });

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

// 1. The generator alone: what producing the pages costs, to subtract.
global.gc?.();
let start = cpuMs();
let groups = 0;
for (const page of pages()) groups += toCostPage(page).days.reduce((n, d) => n + d.groups.length, 0);
const generationMs = cpuMs() - start;

// 2. The whole cost check on the same pages.
global.gc?.();
const rssBefore = process.memoryUsage().rss;
let requests = 0;
const iterator = pages();
const port: CostExplorerPort = {
  async getCostAndUsage() {
    requests++;
    return toCostPage(iterator.next().value!);
  },
};
start = cpuMs();
const snapshot = await collectCosts(port, config, { period, now, metric: 'UnblendedCost', threshold: fromUnits(500_000) });
const alerts = await dispatchAlerts(crossedLevels(snapshot, config), { markers: undefined, publish: undefined, dryRun: false, now });
const summary = renderSummary(snapshot, config, alerts, { dryRun: false, reportPath: 'cost-report.json' });
const report = JSON.stringify(toCostReport(snapshot, config, alerts));
const totalMs = cpuMs() - start;
const peakRssMb = process.resourceUsage().maxRSS / 1024;

const processingMs = totalMs - generationMs;
console.log(`## Cost check: ${CUSTOMERS.toLocaleString('en')} customers x 31 days x 20 services

| Measure | Value |
|:--|--:|
| Cost Explorer groups read | ${groups.toLocaleString('en')} |
| Cost Explorer requests (one page per day) | ${requests} ($${(requests * 0.01).toFixed(2)}) |
| CPU: whole run incl. generating sample pages | ${totalMs.toFixed(0)} ms |
| CPU: generating the sample pages alone | ${generationMs.toFixed(0)} ms |
| **CPU: cost-check processing** (difference) | **${processingMs.toFixed(0)} ms** |
| Processing per group | ${((processingMs * 1000) / groups).toFixed(2)} µs |
| Processing relative to producing the same pages (same process, same run) | ${(processingMs / generationMs).toFixed(2)}x |
| Peak RSS of the process | ${peakRssMb.toFixed(0)} MB (${(rssBefore / 1048576).toFixed(0)} MB before the run) |
| Job summary size | ${(Buffer.byteLength(summary) / 1024).toFixed(1)} KiB (limit 1024 KiB) |
| JSON report size | ${(Buffer.byteLength(report) / 1048576).toFixed(1)} MiB |
| Alerts reached | ${alerts.length} |
`);
