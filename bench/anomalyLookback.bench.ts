// What reading last month's days for the anomaly baseline costs: the cost check of every day of December 2026
// (runs on the 2nd to the 31st) at 5, 1,000 and 10,000 customers, with the detection on (baseline read from
// November early in the month) and off, counting the Cost Explorer pages of each query. One service per customer:
// the daily query is grouped by customer only, so its pages do not depend on services (the monthly query's pages,
// which do, are the same with detection on or off).
import { validateBillingConfig, type BillingConfig } from '../src/config/load.js';
import { runCostCheck } from '../src/costCheck/run.js';
import type { CostExplorerPort } from '../src/costs/query.js';
import { monthPeriod } from '../src/period.js';
import { GROUPS_PER_PAGE, sampleCostCube } from '../scripts/demo/sampleCosts.mjs';
import { cubeCostExplorer } from '../test/support/costPages.js';

const SIZES = [5, 1_000, 10_000];
const period = monthPeriod(2026, 12);
const runDays = Array.from({ length: 30 }, (_, i) => i + 2);

interface Count {
  daily: number;
  monthly: number;
}

async function pagesPerRun(customers: number, enabled: boolean): Promise<Count[]> {
  const accounts = Array.from({ length: customers }, (_, i) => ({ account: String(100_000_000_000 + i), monthly: 300 }));
  const config: BillingConfig = validateBillingConfig({
    customers: accounts.map((a, i) => ({ id: `c${i}`, name: `C${i}`, match: a.account, stripeCustomerId: `cus_bench${i}`, allowance: 100_000 })),
    anomalies: { enabled },
  });
  const cube = sampleCostCube({ accounts, services: [['AWS Lambda', 1]], start: '2026-11-01', endExclusive: '2027-01-01' });
  const standIn = cubeCostExplorer(cube).port;
  const counts: Count[] = [];
  for (const day of runDays) {
    const count = { daily: 0, monthly: 0 };
    const port: CostExplorerPort = {
      getCostAndUsage(query, token) {
        count[query.granularity === 'DAILY' ? 'daily' : 'monthly']++;
        return standIn.getCostAndUsage(query, token);
      },
    };
    const now = new Date(Date.UTC(2026, 11, day, 6));
    await runCostCheck({ costExplorer: port }, config, { period, now, metric: 'UnblendedCost', threshold: 0, dryRun: true });
    counts.push(count);
  }
  return counts;
}

const rows: string[] = [];
for (const customers of SIZES) {
  const off = await pagesPerRun(customers, false);
  const on = await pagesPerRun(customers, true);
  const extra = on.map((count, i) => count.daily - (off[i]?.daily ?? 0));
  const monthlySame = on.every((count, i) => count.monthly === off[i]?.monthly);
  const worst = Math.max(...extra);
  const worstDay = runDays[extra.indexOf(worst)];
  const perMonth = extra.reduce((total, pages) => total + pages, 0);
  const daysWithExtra = extra.filter((pages) => pages > 0).length;
  rows.push(
    `| ${customers.toLocaleString('en')} | ${off[1]?.daily} → ${on[1]?.daily} | ${worst === 0 ? '0' : `${worst} (run of the ${worstDay === 3 ? '3rd' : `${worstDay}th`})`} | ${daysWithExtra} | ${perMonth} ($${(perMonth * 0.01).toFixed(2)}) | ${monthlySame ? 'same' : 'DIFFERENT'} |`,
  );
}

console.log(`## Cost anomalies: last month's days for the baseline early in a month

\`npm run bench -- anomalyLookback\` (\`bench/anomalyLookback.bench.ts\`). The cost check of every day of December 2026 (runs
on the 2nd to the 31st), with \`anomalies\` on (defaults: \`lookbackDays: 28\`) and off, pages of ${GROUPS_PER_PAGE.toLocaleString('en')} groups as in
the Cost Explorer stand-in; each request costs $0.01.

| Customers | Daily query pages on the 3rd (off → on) | Most extra pages in one run | Runs with extra pages | Extra pages a month | Monthly query pages |
|--:|:--|--:|--:|--:|:--|
${rows.join('\n')}
`);
