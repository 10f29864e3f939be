import {
  GetCostAndUsageCommand,
  GetCostForecastCommand,
  type CostExplorerClient,
  type Expression,
  type GetCostAndUsageCommandInput,
  type GetCostAndUsageCommandOutput,
  type MetricValue,
} from '@aws-sdk/client-cost-explorer';
import type { DeserializeMiddleware } from '@smithy/types';
import type { CostExplorerPort, CostQuery } from '../costs/query.js';
import { ServiceError } from '../errors.js';
import { withRetry, type RetryOptions } from '../retry.js';

const THROTTLED = new Set(['LimitExceededException', 'ThrottlingException', 'TooManyRequestsException']);

export function costExplorerAdapter(client: CostExplorerClient, retry: Partial<RetryOptions> = {}): CostExplorerPort {
  const retrying = <T>(call: () => Promise<T>) =>
    withRetry(call, {
      attempts: 6,
      baseDelayMs: 1_000,
      maxDelayMs: 20_000,
      isRetryable: (error) => THROTTLED.has(errorName(error)) || isTransient(error),
      ...retry,
    }).catch((error: unknown) => {
      throw explain(error);
    });

  return {
    async getCostAndUsage(query, nextPageToken) {
      const result = await retrying(() => sendParsingBodyOnce(client, new GetCostAndUsageCommand(toInput(query, nextPageToken))));
      return {
        nextPageToken: result.NextPageToken,
        periods: (result.ResultsByTime ?? []).map((period) => ({
          start: period.TimePeriod?.Start ?? '',
          estimated: period.Estimated ?? false,
          // Without a GroupBy the amount is the period's Total.
          groups: query.groupBy.length === 0 ? totalAsGroup(period.Total) : (period.Groups ?? []).map((group) => amountOf(group.Keys ?? [], group.Metrics)),
        })),
      };
    },
    async getCostForecast({ start, endExclusive, metric }) {
      const result = await retrying(() =>
        client.send(
          new GetCostForecastCommand({
            TimePeriod: { Start: start, End: endExclusive },
            Granularity: 'MONTHLY',
            Metric: forecastMetric(metric),
          }),
        ),
      );
      return result.Total?.Amount ?? '0';
    },
  };
}

/**
 * Sends the request through the SDK (signing, endpoint, retries, error responses) but reads a successful answer's
 * body with one JSON.parse: its fields are the output's own (strings, booleans, lists and maps, no timestamps or
 * blobs), and the SDK's schema walk over a page's 5,000 groups cost more than the parse (a third of the CPU of a
 * 10,000-customer cost check). The SDK then finds an empty body and adds only `$metadata`.
 */
async function sendParsingBodyOnce(client: CostExplorerClient, command: GetCostAndUsageCommand): Promise<GetCostAndUsageCommandOutput> {
  let parsed: Omit<GetCostAndUsageCommandOutput, '$metadata'> | undefined;
  command.middlewareStack.addRelativeTo(
    ((next) => async (args) => {
      const result = await next(args);
      const response = result.response as { statusCode?: number; body?: unknown };
      if (typeof response.statusCode === 'number' && response.statusCode < 300 && isReadable(response.body)) {
        parsed = JSON.parse(await readText(response.body)) as typeof parsed;
        response.body = new Uint8Array(0);
      }
      return result;
    }) satisfies DeserializeMiddleware<GetCostAndUsageCommandInput, GetCostAndUsageCommandOutput>,
    { relation: 'after', toMiddleware: 'deserializerMiddleware', name: 'parseCostPageOnce' },
  );
  const output = await client.send(command);
  return parsed ? { ...parsed, $metadata: output.$metadata } : output;
}

function isReadable(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

async function readText(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export function toInput(query: CostQuery, nextPageToken?: string): GetCostAndUsageCommandInput {
  const exclude: Expression | undefined =
    query.excludeRecordTypes.length > 0 ? { Not: { Dimensions: { Key: 'RECORD_TYPE', Values: [...query.excludeRecordTypes] } } } : undefined;
  return {
    TimePeriod: { Start: query.start, End: query.endExclusive },
    Granularity: query.granularity,
    Metrics: [query.metric],
    GroupBy: query.groupBy.map((group) => ({ Type: group.type, Key: group.key })),
    ...(exclude ? { Filter: exclude } : {}),
    ...(nextPageToken ? { NextPageToken: nextPageToken } : {}),
  };
}

function amountOf(keys: string[], metrics: Record<string, MetricValue> | undefined) {
  const metric = Object.values(metrics ?? {})[0];
  return { keys, amount: metric?.Amount ?? '0', unit: metric?.Unit ?? '' };
}

function totalAsGroup(total: Record<string, MetricValue> | undefined) {
  return total && Object.keys(total).length > 0 ? [amountOf([], total)] : [];
}

/** GetCostForecast names its metrics in SCREAMING_SNAKE_CASE. */
function forecastMetric(metric: string) {
  return metric.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase() as 'UNBLENDED_COST';
}

function isTransient(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode ?? 0;
  const code = (error as { code?: string } | null)?.code ?? '';
  // A refused connection is not retried: nothing listens there (a wrong endpoint), and waiting does not change that.
  return status >= 500 || ['ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code) || errorName(error) === 'TimeoutError';
}

function errorName(error: unknown): string {
  return (error as { name?: string } | null)?.name ?? '';
}

/** Maps the errors people actually hit to a message with the likely fix. */
function explain(error: unknown): unknown {
  const name = errorName(error);
  const message = (error as Error | null)?.message ?? String(error);
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || name === 'UnrecognizedClientException') {
    return new ServiceError(
      `Cost Explorer refused the request (${name}: ${message})`,
      'Give the role assumed through OIDC ce:GetCostAndUsage (and ce:GetCostForecast for the AWS forecast); Cost Explorer must be queried from the management or a linked account with access',
      { cause: error },
    );
  }
  if (name === 'DataUnavailableException' || /not enabled|has not been enabled|opt.?in/i.test(message)) {
    return new ServiceError(
      `Cost Explorer has no data for this account (${name}: ${message})`,
      'Enable Cost Explorer in the Billing console (Cost Explorer > Launch); data appears within 24 hours',
      { cause: error },
    );
  }
  if (THROTTLED.has(name)) {
    return new ServiceError(
      `Cost Explorer kept throttling after retries (${name})`,
      'Another job is probably querying Cost Explorer at the same time; re-run later or space out schedules',
      { cause: error },
    );
  }
  if (name === 'BillExpirationException') {
    return new ServiceError(`Cost Explorer no longer has that period (${message})`, 'Cost Explorer keeps 13 months of history; choose a later period', {
      cause: error,
    });
  }
  if (name === 'RequestChangedException' || name === 'InvalidNextTokenException') {
    return new ServiceError(`Cost Explorer data changed while paging (${name})`, 'Re-run the job; data refreshes up to three times a day', { cause: error });
  }
  return error;
}
