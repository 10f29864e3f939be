import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AlertOutcome } from '../../../src/alerts/dispatch.js';
import { crossedLevels } from '../../../src/alerts/evaluate.js';
import type { BillingConfig } from '../../../src/config/load.js';
import type { CostSnapshot } from '../../../src/costs/types.js';
import { ConfigError } from '../../../src/errors.js';
import { CostReportError, readCostReport, toCostReport, writeCostReport } from '../../../src/report/costReport.js';
import { demoConfig, demoSnapshot } from '../../support/snapshots.js';

/** The cost report as the billing action reads it: every unusable file is a CostReportError naming the file and what is wrong. */
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cost-report-'));
  return () => rm(dir, { recursive: true, force: true });
});

async function reportFile(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function readError(path: string): Promise<CostReportError> {
  const error = await readCostReport(path).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(CostReportError);
  return error as CostReportError;
}

describe('reading the cost report', () => {
  it('reads back exactly what the cost check wrote, period included', async () => {
    const snapshot = await demoSnapshot();
    const path = join(dir, 'cost-report.json');
    await writeCostReport(path, snapshot, demoConfig, []);
    const read = await readCostReport(path);
    expect(read).toEqual(snapshot);
    expect(read.period).toBe('2026-11');
  });

  it('names a missing file and says how to get one', async () => {
    const path = join(dir, 'no-such-report.json');
    const error = await readError(path);
    expect(error.message).toContain(`cost report "${path}" cannot be read`);
    expect(error.message).toContain('ENOENT');
    expect(error.message).toContain('run the cost-check action first');
  });

  it('is an input problem (ConfigError), so the action reports it as "nothing was changed"', async () => {
    const error = await readError(join(dir, 'missing.json'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.name).toBe('CostReportError');
    expect(error.problems).toEqual([error.message]);
  });

  it('names a file that is not JSON, with the parser message', async () => {
    const path = await reportFile('truncated.json', '{"schemaVersion": 1, "period": "2026-');
    const error = await readError(path);
    expect(error.message).toMatch(
      new RegExp(`^cost report "${escape(path)}" is not a cost report written by the cost-check action \\(.*JSON.*\\); re-run the cost check$`),
    );
  });

  it('names an empty file as not a cost report', async () => {
    const path = await reportFile('empty.json', '');
    const error = await readError(path);
    expect(error.message).toContain(`cost report "${path}" is not a cost report written by the cost-check action`);
  });

  it('names the file, the field and the value of a wrong schemaVersion, and the version it reads', async () => {
    const snapshot = await demoSnapshot();
    const path = await reportFile('v2.json', JSON.stringify({ ...toCostReport(snapshot, demoConfig), schemaVersion: 2 }));
    const error = await readError(path);
    expect(error.message).toBe(`${path} has schemaVersion 2; this version reads 1`);
  });

  it('treats JSON without a schemaVersion (another file entirely) as the wrong schema', async () => {
    const path = await reportFile('package.json', JSON.stringify({ name: 'not-a-report' }));
    const error = await readError(path);
    expect(error.message).toBe(`${path} has schemaVersion undefined; this version reads 1`);
  });

  it('names a file whose JSON is not an object', async () => {
    const path = await reportFile('null.json', 'null');
    const error = await readError(path);
    expect(error.message).toContain(`cost report "${path}" is not a cost report written by the cost-check action`);
  });

  it('names the file and the bad value when a version-1 report holds an amount that is not a decimal', async () => {
    const report = toCostReport(await demoSnapshot(), demoConfig);
    const broken = { ...report, customers: report.customers.map((c, i) => (i === 0 ? { ...c, cost: '12,50' } : c)) };
    const path = await reportFile('bad-amount.json', JSON.stringify(broken));
    const error = await readError(path);
    expect(error.message).toContain(`cost report "${path}" is not a cost report`);
    expect(error.message).toContain('amount "12,50" is not a decimal number');
  });

  it('names the file when a version-1 report lacks a section it needs', async () => {
    const withoutCustomers: Record<string, unknown> = { ...toCostReport(await demoSnapshot(), demoConfig) };
    delete withoutCustomers.customers;
    const path = await reportFile('no-customers.json', JSON.stringify(withoutCustomers));
    const error = await readError(path);
    expect(error.message).toContain(`cost report "${path}" is not a cost report written by the cost-check action`);
  });

  it('reads a report of another period without error and keeps its period: the billing action compares it with the one it bills', async () => {
    // readCostReport does not know the period being billed; actions/billing/main.ts checks `report.period` and
    // queries Cost Explorer when the report covers another month (a true-up of last month after today's cost check).
    const snapshot = await demoSnapshot();
    const path = await reportFile('october.json', JSON.stringify({ ...toCostReport(snapshot, demoConfig), period: '2026-10' }));
    const read = await readCostReport(path);
    expect(read.period).toBe('2026-10');
    expect(read.customers).toEqual(snapshot.customers);
  });
});

describe('writing the cost report', () => {
  /** The demo's customers repeated under new ids: a report of some megabytes, written in several chunks. */
  async function manyCustomers(copies: number): Promise<{ snapshot: CostSnapshot; config: BillingConfig }> {
    const snapshot = await demoSnapshot();
    const copy = <T extends object>(list: readonly T[], id: (item: T) => string, key: 'customerId' | 'id') =>
      Array.from({ length: copies }, (_, n) => list.map((item) => ({ ...item, [key]: `${id(item)}-${n}` }))).flat();
    return {
      snapshot: { ...snapshot, customers: copy(snapshot.customers, (c) => c.customerId, 'customerId') },
      config: { ...demoConfig, customers: copy(demoConfig.customers, (c) => c.id, 'id') },
    };
  }

  function outcomes(snapshot: CostSnapshot, config: BillingConfig): AlertOutcome[] {
    return crossedLevels(snapshot, config).map((alert, i) =>
      i === 0 ? { ...alert, status: 'failed', error: 'SNS said "no"' } : { ...alert, status: 'summary-only' },
    );
  }

  it('writes the same bytes as the whole report serialised at once, customers, alerts and anomalies included', async () => {
    const { snapshot, config } = await manyCustomers(800);
    const alerts = outcomes(snapshot, config);
    const anomalies = {
      day: '2026-11-14',
      settings: { enabled: true, ratio: 2, minimum: 20_000_000, lookbackDays: 28 },
      anomalies: [
        {
          period: '2026-11',
          customerId: 'acme-0',
          customerName: 'Acme',
          currency: 'usd',
          day: '2026-11-14',
          expected: 1_500_000,
          actual: 9_250_000,
          largestServices: [{ service: 'Amazon EC2', amount: 7_000_000 }],
          estimated: true,
          status: 'sent' as const,
        },
      ],
    };
    const path = join(dir, 'cost-report.json');
    await writeCostReport(path, snapshot, config, alerts, anomalies);
    const written = await readFile(path, 'utf8');
    expect(written.length).toBeGreaterThan(3 * 1024 * 1024);
    expect(alerts.length).toBeGreaterThan(800);
    expect(written).toBe(JSON.stringify(toCostReport(snapshot, config, alerts, anomalies)));
  });

  it('writes a report of one customer and no alerts as JSON.stringify does', async () => {
    const snapshot = await demoSnapshot();
    const one = { ...snapshot, customers: snapshot.customers.slice(0, 1) };
    const path = join(dir, 'one.json');
    await writeCostReport(path, one, demoConfig, []);
    expect(await readFile(path, 'utf8')).toBe(JSON.stringify(toCostReport(one, demoConfig, [])));
  });

  it('leaves no partial file behind when the report cannot be put in place', async () => {
    const path = join(dir, 'taken');
    await mkdir(path);
    await writeFile(join(path, 'keep'), 'x');
    await expect(writeCostReport(path, await demoSnapshot(), demoConfig, [])).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['taken']);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
