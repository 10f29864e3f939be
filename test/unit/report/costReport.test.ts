import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
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

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
