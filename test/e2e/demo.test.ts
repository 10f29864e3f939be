import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm run demo` as a user runs it, twice: scripts/demo.mjs runs the committed actions/cost-check/dist/index.js
 * (nothing is built here), with its state in a temp dir (DEMO_STATE_DIR) instead of .demo/.
 */
const run = promisify(execFile);
let state: string;

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'demo-state-'));
});
afterAll(() => rm(state, { recursive: true, force: true }));

interface Alert {
  scope: string;
  kind: string;
  level: number;
  status: string;
}

async function demo(...args: string[]) {
  const { stdout } = await run(process.execPath, ['--no-warnings', 'scripts/demo.mjs', ...args], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: state, DEMO_STATE_DIR: state },
  });
  const outputs = readFileSync(join(state, 'outputs.txt'), 'utf8');
  const alerts = JSON.parse(/alerts<<(\S+)\n([\s\S]*?)\n\1/.exec(outputs)?.[2] ?? 'null') as Alert[];
  const report = JSON.parse(readFileSync(join(state, 'cost-report.json'), 'utf8')) as { alerts: Alert[]; anomalies: { enabled: boolean; found: unknown[] } };
  return { stdout, alerts, report };
}

const levels = (alerts: readonly Alert[]) => alerts.map((a) => `${a.scope} ${a.kind} ${a.level}`);

describe('the demo', () => {
  it('raises the alerts reached on the first run and nothing new on the second; --reset starts over', async () => {
    const first = await demo('--reset');
    expect(first.alerts.length).toBeGreaterThan(0);
    expect(first.alerts.every((a) => a.status === 'summary-only')).toBe(true);
    expect(first.stdout).toContain(`With an SNS topic (input sns-topic-arn) this run would have published ${first.alerts.length} alert(s):`);
    for (const alert of first.alerts) expect(first.stdout).toContain(`📣 ${alert.scope}: ${alert.kind} ${alert.level}%`);
    expect(first.stdout).toContain(`JSON report: ${join(state, 'cost-report.json')}`);
    expect(levels(first.report.alerts)).toEqual(levels(first.alerts));
    expect(existsSync(join(state, 'dynamodb'))).toBe(true);
    expect(readFileSync(join(state, 'cost-summary.md'), 'utf8')).toContain('## AWS costs for');
    expect(readFileSync(join(state, 'cost-summary.md'), 'utf8')).toContain('### Cost anomalies');
    expect(first.report.anomalies).toMatchObject({ enabled: true, found: [] });

    const second = await demo();
    expect(second.stdout).toContain('Every alert reached was already raised by an earlier run: nothing new to publish.');
    expect(second.stdout).not.toContain('would have published');
    expect(second.stdout).not.toContain('📣');
    expect(levels(second.alerts)).toEqual(levels(first.alerts));
    expect(second.alerts.every((a) => a.status === 'already-sent')).toBe(true);
    expect(second.report.alerts.every((a) => a.status === 'already-sent')).toBe(true);

    const reset = await demo('--reset');
    expect(levels(reset.alerts)).toEqual(levels(first.alerts));
    expect(reset.alerts.every((a) => a.status === 'summary-only')).toBe(true);
    expect(reset.stdout).toContain(`this run would have published ${first.alerts.length} alert(s):`);
  });
});
