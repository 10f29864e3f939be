import { describe, expect, it } from 'vitest';
import { jsonTelemetry } from '../../../src/webhooks/telemetry.js';

describe('jsonTelemetry', () => {
  it('writes one JSON log line with level, service, message and fields', () => {
    const lines: string[] = [];
    jsonTelemetry(
      (line) => lines.push(line),
      () => Date.parse('2026-11-20T12:00:00Z'),
    ).log('warn', 'webhook delivery rejected', { eventId: 'evt_1', statusCode: 400, reason: undefined });
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      {
        timestamp: '2026-11-20T12:00:00.000Z',
        level: 'warn',
        service: 'billing-webhook',
        message: 'webhook delivery rejected',
        eventId: 'evt_1',
        statusCode: 400,
      },
    ]);
  });

  it('writes a metrics line in CloudWatch embedded metric format whose dimensions and metrics all have values', () => {
    const lines: string[] = [];
    jsonTelemetry(
      (line) => lines.push(line),
      () => 1_795_000_000_000,
    ).delivery({ eventType: 'invoice.paid', outcome: 'duplicate', latencyMs: 12.34567, signatureFailure: false, duplicate: true });
    const line = JSON.parse(lines[0] ?? '{}');
    const directive = line._aws.CloudWatchMetrics[0];

    expect(line._aws.Timestamp).toBe(1_795_000_000_000);
    expect(directive.Namespace).toBe('StripeBillingWebhook');
    for (const dimensions of directive.Dimensions) for (const name of dimensions) expect(typeof line[name]).toBe('string');
    for (const metric of directive.Metrics) expect(typeof line[metric.Name]).toBe('number');
    expect(line).toMatchObject({ EventType: 'invoice.paid', Outcome: 'duplicate', Events: 1, Duplicates: 1, SignatureFailures: 0, Latency: 12.346 });
  });

  it('writes no metrics line, only log lines, when embedded metrics are off', () => {
    const lines: string[] = [];
    const telemetry = jsonTelemetry((line) => lines.push(line), Date.now, { embeddedMetrics: false });
    telemetry.delivery({ eventType: 'invoice.paid', outcome: 'processed', latencyMs: 3, signatureFailure: false, duplicate: false });
    telemetry.log('info', 'webhook event processed', { outcome: 'processed', eventType: 'invoice.paid' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ message: 'webhook event processed', outcome: 'processed', eventType: 'invoice.paid' });
    expect(lines[0]).not.toContain('_aws');
  });
});
