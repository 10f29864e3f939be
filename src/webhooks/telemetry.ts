/**
 * Structured JSON logs and CloudWatch embedded-metric-format lines, written straight to stdout: in Lambda a
 * line that is a JSON object becomes a searchable log event, and an `_aws` member turns it into metrics.
 * Never pass secrets, signature headers or bodies here.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;
export type LineWriter = (line: string) => void;

export const METRICS_NAMESPACE = 'StripeBillingWebhook';
export const SERVICE_NAME = 'billing-webhook';

export interface Telemetry {
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /** One metrics line per delivery. */
  delivery(metrics: DeliveryMetrics): void;
}

export interface DeliveryMetrics {
  readonly eventType: string;
  readonly outcome: string;
  readonly latencyMs: number;
  readonly signatureFailure: boolean;
  readonly duplicate: boolean;
}

export const stdoutWriter: LineWriter = (line) => {
  process.stdout.write(`${line}\n`);
};

export interface TelemetryOptions {
  /**
   * false: no embedded metrics at all. Every metric name x dimension value is a paid custom metric; without them the
   * delivery's log line (outcome, event type, status) still answers the questions through Logs Insights.
   */
  readonly embeddedMetrics: boolean;
}

export function jsonTelemetry(
  write: LineWriter = stdoutWriter,
  clock: () => number = Date.now,
  { embeddedMetrics }: TelemetryOptions = { embeddedMetrics: true },
): Telemetry {
  return {
    log(level, message, fields = {}) {
      write(JSON.stringify({ timestamp: new Date(clock()).toISOString(), level, service: SERVICE_NAME, message, ...fields }));
    },
    delivery(metrics) {
      if (embeddedMetrics) write(JSON.stringify(metricsLine(metrics, clock())));
    },
  };
}

export function metricsLine(metrics: DeliveryMetrics, timestampMs: number) {
  return {
    _aws: {
      Timestamp: timestampMs,
      // Every metric x dimension value is billed as its own custom metric: the breakdowns by outcome and by event
      // type carry only the event count, which keeps the bill near 25 metrics instead of one per type x outcome x 4.
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [['Service']],
          Metrics: [
            { Name: 'Events', Unit: 'Count' },
            { Name: 'SignatureFailures', Unit: 'Count' },
            { Name: 'Duplicates', Unit: 'Count' },
            { Name: 'Latency', Unit: 'Milliseconds' },
          ],
        },
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [
            ['Service', 'Outcome'],
            ['Service', 'EventType'],
          ],
          Metrics: [{ Name: 'Events', Unit: 'Count' }],
        },
      ],
    },
    Service: SERVICE_NAME,
    EventType: metrics.eventType,
    Outcome: metrics.outcome,
    Events: 1,
    SignatureFailures: metrics.signatureFailure ? 1 : 0,
    Duplicates: metrics.duplicate ? 1 : 0,
    Latency: Math.round(metrics.latencyMs * 1000) / 1000,
  };
}

export const silentTelemetry: Telemetry = { log() {}, delivery() {} };
