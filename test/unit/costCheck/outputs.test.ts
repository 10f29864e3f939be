import { describe, expect, it } from 'vitest';
import type { AlertOutcome } from '../../../src/alerts/dispatch.js';
import type { AnomalyResult } from '../../../src/anomalies/report.js';
import { costCheckOutputs, OUTPUT_LIST_LIMIT } from '../../../src/costCheck/outputs.js';
import type { CostCheckResult } from '../../../src/costCheck/run.js';
import { budgetAlert } from '../../support/alerts.js';
import { demoSnapshot } from '../../support/snapshots.js';

const alert = (i: number, status: AlertOutcome['status']): AlertOutcome => ({
  ...budgetAlert({ scope: `c${i}`, scopeName: `Customer ${i}` }),
  status,
});

const noAnomalies: AnomalyResult = { anomalies: [], settings: { enabled: true, ratio: 2, minimum: 20_000_000, lookbackDays: 28 } };

const anomaly = (i: number): AnomalyResult['anomalies'][number] => ({
  period: '2026-11',
  customerId: `c${i}`,
  customerName: `Customer ${i}`,
  currency: 'usd',
  day: '2026-11-14',
  expected: 10_000_000,
  actual: 50_000_000,
  largestServices: [],
  estimated: true,
  status: 'sent',
});

describe('cost-check outputs', () => {
  it('stay far below GitHub’s 1 MB per job with 10,000 customers: lists capped, news first, every alert counted', async () => {
    const snapshot = await demoSnapshot();
    const alerts = Array.from({ length: 20_000 }, (_, i) => alert(i, i === 19_999 ? 'sent' : i % 2 ? 'already-sent' : 'summary-only'));
    const overAllowance = Array.from({ length: 10_000 }, (_, i) => `customer-${i}`);
    const anomalies: AnomalyResult = { ...noAnomalies, day: '2026-11-14', anomalies: Array.from({ length: 10_000 }, (_, i) => anomaly(i)) };
    const result: CostCheckResult = { snapshot, alerts, thresholdExceeded: true, charges: [], overAllowance, failedAlerts: 0, anomalies };
    const outputs = costCheckOutputs(result, 'cost-report.json');

    const bytes = Object.entries(outputs).reduce((n, [name, value]) => n + 2 * (name.length + value.length), 0);
    expect(bytes).toBeLessThan(64 * 1024);
    expect(JSON.parse(outputs['over-allowance']!)).toEqual(overAllowance.slice(0, OUTPUT_LIST_LIMIT));
    expect(outputs['over-allowance-count']).toBe('10000');
    const listed = JSON.parse(outputs.alerts!) as Array<{ scope: string; status: string }>;
    expect(listed).toHaveLength(OUTPUT_LIST_LIMIT);
    expect(listed.every((a) => a.status !== 'already-sent')).toBe(true);
    expect(listed[0]).toEqual({ scope: 'c0', kind: 'actual', level: 80, status: 'summary-only' });
    expect(JSON.parse(outputs['alerts-count']!)).toEqual({ 'summary-only': 10_000, 'already-sent': 9_999, sent: 1 });
    expect(JSON.parse(outputs.anomalies!)).toHaveLength(OUTPUT_LIST_LIMIT);
  });

  it('keep small runs whole: every alert and customer listed, `[]` when none is over', async () => {
    const snapshot = await demoSnapshot();
    const result: CostCheckResult = {
      snapshot,
      alerts: [alert(1, 'already-sent'), alert(2, 'sent')],
      thresholdExceeded: false,
      charges: [],
      overAllowance: [],
      failedAlerts: 0,
      anomalies: noAnomalies,
    };
    const outputs = costCheckOutputs(result, 'r.json');
    expect(outputs['over-allowance']).toBe('[]');
    expect(JSON.parse(outputs.alerts!).map((a: { scope: string }) => a.scope)).toEqual(['c2', 'c1']);
    expect(outputs['report-path']).toBe('r.json');
    expect(outputs['ce-requests']).toBe(String(snapshot.costExplorerRequests));
  });
});
