import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm run demo` as a user runs it, twice: scripts/demo.mjs runs the committed actions/*\/dist/index.js and the
 * Lambda bundle, with its state in a temp dir (DEMO_STATE_DIR) instead of .demo/. The demo pins its period
 * (October 2026, a closed month), so what it prints does not depend on today's date.
 */
const run = promisify(execFile);
let state: string;

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'demo-state-'));
});
afterAll(() => rm(state, { recursive: true, force: true }));

// Each run starts three Node processes (two actions, esbuild) and builds two bundles.
const DEMO_TIMEOUT_MS = 60_000;

async function demo(...args: string[]) {
  const { stdout } = await run(process.execPath, ['--no-warnings', 'scripts/demo.mjs', ...args], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: state, DEMO_STATE_DIR: state },
  });
  const outputs = (action: string) => readFileSync(join(state, `${action}-outputs.txt`), 'utf8');
  const output = (action: string, name: string) => JSON.parse(new RegExp(`^${name}<<(\\S+)\\n([\\s\\S]*?)\\n\\1$`, 'm').exec(outputs(action))?.[2] ?? 'null');
  return {
    stdout,
    costSummary: readFileSync(join(state, 'cost-check-summary.md'), 'utf8'),
    alerts: output('cost-check', 'alerts') as Array<{ scope: string; level: number; status: string }>,
    invoices: output('billing', 'invoices') as Array<{ id: string; customer: string; amount: string; status: string }>,
    report: JSON.parse(readFileSync(join(state, 'cost-report.json'), 'utf8')) as { anomalies: { enabled: boolean; found: unknown[] } },
  };
}

describe('the demo', () => {
  it(
    'checks costs, publishes the alerts, invoices the customer over its allowance, and marks the invoice paid from a webhook',
    async () => {
      const first = await demo('--reset');
      expect(first.costSummary).toContain('## AWS costs for October 2026');
      expect(first.costSummary).toContain('| Month total |');
      expect(first.costSummary).not.toContain('Month to date');
      expect(first.costSummary).toContain('### Cost anomalies');
      expect(first.report.anomalies).toMatchObject({ enabled: true, found: [] });
      expect(first.alerts.length).toBeGreaterThan(0);
      expect(first.alerts.every((a) => a.status === 'sent')).toBe(true);
      expect(first.stdout).toContain(`Wrote ${first.alerts.length} alert marker(s) to DynamoDB and published ${first.alerts.length} alert(s) to SNS:`);
      expect(first.stdout).toContain('📣 AWS cost alert: Acme Corp at 100% of allowance (2026-10)');

      // Only Acme is over its allowance: 1,220.60 × 1.10 − 800 = 542.66.
      expect(first.invoices).toEqual([expect.objectContaining({ customer: 'acme', amount: '542.66', status: 'open' })]);
      const invoice = first.invoices[0]!.id;
      expect(first.stdout).toContain(`🧾 ${invoice} acme 542.66 USD (open)`);
      expect(first.stdout).toContain(`POST /webhook invoice.paid for ${invoice}: 200 {"received":true,"outcome":"processed"}`);
      expect(first.stdout).toContain(`DynamoDB invoice record ${invoice}: status paid`);
    },
    DEMO_TIMEOUT_MS,
  );

  it(
    'bills and alerts nothing again on a second run, and says so',
    async () => {
      const second = await demo();
      expect(second.alerts.length).toBeGreaterThan(0);
      expect(second.alerts.every((a) => a.status === 'already-sent')).toBe(true);
      expect(second.stdout).toContain(`No alert published: each of the ${second.alerts.length} level(s) reached was published by an earlier run`);
      expect(second.stdout).not.toContain('📣');
      expect(second.costSummary).toContain('Raised earlier');
      expect(second.invoices).toEqual([]);
      expect(second.stdout).toContain('No invoice created: the ledger in DynamoDB shows October already trued up');
      expect(second.stdout).not.toContain('🧾');
      expect(second.stdout).toContain('No new invoice, so no payment to report');
    },
    DEMO_TIMEOUT_MS,
  );
});
