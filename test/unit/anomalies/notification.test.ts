import { describe, expect, it } from 'vitest';
import { anomalyNotification } from '../../../src/anomalies/dispatch.js';
import type { CostAnomaly } from '../../../src/anomalies/detect.js';
import { fromUnits } from '../../../src/money.js';

const anomaly: CostAnomaly = {
  period: '2026-11',
  customerId: 'acme',
  customerName: 'Acme',
  currency: 'usd',
  day: '2026-11-14',
  expected: fromUnits(40),
  actual: fromUnits(400),
  largestServices: [{ service: 'Amazon EC2', amount: fromUnits(1200) }],
  estimated: true,
};

describe('anomalyNotification', () => {
  it('names the day, its weekday, what such a day usually costs and the largest services', () => {
    const { subject, message, attributes } = anomalyNotification(anomaly);
    expect(subject).toBe('AWS cost anomaly: Acme spent $400.00 on 2026-11-14 (usually $40.00)');
    expect(message.split('\n')).toEqual([
      'Acme (acme) spent $400.00 on 2026-11-14; a usual Saturday costs about $40.00.',
      'Largest services in 2026-11 so far: Amazon EC2 ($1,200.00).',
      'Cost Explorer marks this data as Estimated; it may still change.',
    ]);
    expect(attributes).toMatchObject({ type: 'cost-anomaly', customer: 'acme' });
  });

  it('names the weekday of each day of a week', () => {
    const weekdays = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22'].map(
      (day) => /a usual (\w+) costs/.exec(anomalyNotification({ ...anomaly, day }).message)?.[1],
    );
    expect(weekdays).toEqual(['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']);
  });
});
