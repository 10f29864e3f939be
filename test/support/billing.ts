import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { runBilling, type BillingOutcome, type BillingRequest } from '../../src/billing/run.js';
import type { LedgerEntry, LedgerPort, StripeBillingPort } from '../../src/billing/types.js';
import { validateBillingConfig, type BillingConfig } from '../../src/config/load.js';
import type { BillingConfigInput } from '../../src/config/schema.js';
import type { CostSnapshot, CustomerCosts } from '../../src/costs/types.js';
import { fromUnits, parseAmount, sum } from '../../src/money.js';
import { parsePeriod } from '../../src/period.js';
import { stripeBilling, type StripeBillingOptions } from '../../src/stripe/billing.js';
import { dynamoLedger } from '../../src/store/ledger.js';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { billingTableDefinition } from './billingTableDefinition.js';
import { startMoto, TEST_CREDENTIALS, TEST_REGION, type Moto } from './moto.js';
import { startStripeServer, type StripeTestServer } from './stripeServer.js';

/** Test fixtures for billing: the billing table, configs and CostSnapshot objects as the cost check produces them. */

/** A document client for the test DynamoDB endpoint. */
export function documentClient(endpoint: string): DynamoDBDocumentClient {
  const dynamo = new DynamoDBClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  return DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
}

export async function createBillingTable(dynamo: DynamoDBDocumentClient, tableName: string): Promise<void> {
  await dynamo.send(new CreateTableCommand(billingTableDefinition(tableName)));
}

export async function scanTable(dynamo: DynamoDBDocumentClient, tableName: string): Promise<Array<Record<string, unknown>>> {
  const result = await dynamo.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
  return result.Items ?? [];
}

/** Acme's pending overage entry for November 2026, as a run reserves it on the 10th. */
export const acmeOverageEntry: LedgerEntry = {
  customerId: 'acme',
  period: '2026-11',
  entryId: 'overage-2026-11-10',
  kind: 'overage',
  amountMinor: 9800,
  currency: 'usd',
  stripeCustomerId: 'cus_acme0001',
  description: 'AWS usage above the allowance',
  status: 'pending',
  reservedAt: '2026-11-10T07:00:00.000Z',
};

export const acme = { id: 'acme', name: 'Acme Corp', match: '111111111111', stripeCustomerId: 'cus_acme0001', allowance: 100, markupPercent: 10 };
export const globex = { id: 'globex', name: 'Globex', match: '222222222222', stripeCustomerId: 'cus_globex01', allowance: 50, markupPercent: 0 };
export const initech = {
  id: 'initech',
  name: 'Initech',
  match: '333333333333',
  stripeCustomerId: 'cus_initech1',
  allowance: 20,
  markupPercent: 5,
  mode: 'meter',
  meterEventName: 'aws_usage',
} as const;

export function billingConfig(customers: BillingConfigInput['customers'], billing: BillingConfigInput['billing'] = {}): BillingConfig {
  return validateBillingConfig({ currency: 'usd', customers, billing });
}

export interface CustomerSpend {
  readonly id: string;
  /** Cost per day in currency units as decimal strings, oldest first, from the 1st of the month. */
  readonly daily: readonly string[];
  readonly services?: ReadonlyArray<readonly [string, string]>;
}

/** A CostSnapshot for `period` as the cost check would report it on `today` (the window ends before today). */
export function costSnapshot(config: BillingConfig, periodId: string, today: string, spends: readonly CustomerSpend[]): CostSnapshot {
  const period = parsePeriod(periodId, new Date(`${today}T06:00:00Z`));
  const endExclusive = today < period.endExclusive ? today : period.endExclusive;
  const customers: CustomerCosts[] = spends.map((spend) => {
    const customer = config.customers.find((candidate) => candidate.id === spend.id);
    if (!customer) throw new Error(`fixture: no customer ${spend.id} in the config`);
    const daily = spend.daily.map(parseAmount);
    const cost = sum(daily);
    const services = (spend.services ?? [['Amazon Elastic Compute Cloud - Compute', '1']]).map(([service, share]) => ({ service, amount: parseAmount(share) }));
    return { customerId: customer.id, name: customer.name, currency: customer.currency, cost, allowance: customer.allowance, forecast: cost, services, daily };
  });
  const total = sum(customers.map((customer) => customer.cost));
  return {
    period: period.id,
    window: { start: period.start, endExclusive, complete: endExclusive === period.endExclusive },
    metric: 'UnblendedCost',
    currency: config.currency,
    costUnit: 'USD',
    // Cost Explorer marks the open month estimated; a closed month's data is final here.
    estimated: endExclusive !== period.endExclusive,
    generatedAt: `${today}T06:00:00.000Z`,
    customers,
    unmapped: { cost: 0, keys: [] },
    total: { cost: total, forecast: total, threshold: fromUnits(800), services: [], daily: [] },
    costExplorerRequests: 1,
  };
}

/** `count` days of `amount` each. */
export const days = (count: number, amount: string): string[] => Array.from({ length: count }, () => amount);

export interface BillingServices {
  readonly moto: Moto;
  readonly stripe: StripeTestServer;
  readonly dynamo: DynamoDBDocumentClient;
}

/**
 * moto and the local Stripe server, started once per test file; before each test both are reset, the billing table
 * is created again and the given Stripe customers exist.
 */
export function useBillingServices(table: string, stripeCustomerIds: readonly string[]): BillingServices {
  const services = {} as { moto: Moto; stripe: StripeTestServer; dynamo: DynamoDBDocumentClient };
  beforeAll(async () => {
    [services.moto, services.stripe] = await Promise.all([startMoto(), startStripeServer()]);
    services.dynamo = documentClient(services.moto.endpoint);
  });
  afterAll(async () => {
    await Promise.all([services.moto?.stop(), services.stripe?.close()]);
  });
  beforeEach(async () => {
    await services.moto.reset();
    services.stripe.reset();
    await createBillingTable(services.dynamo, table);
    for (const id of stripeCustomerIds) services.stripe.addCustomer(id);
  });
  return services;
}

export interface BillingRunOptions {
  readonly config: BillingConfig;
  /** The run happens at 07:00 UTC of this day. */
  readonly today: string;
  readonly spends?: readonly CustomerSpend[];
  readonly mode?: BillingRequest['mode'];
  readonly period?: string;
  readonly ledger?: LedgerPort;
  readonly stripe?: StripeBillingPort;
  readonly extra?: Partial<BillingRequest>;
}

/** The Stripe adapter against the local server, without rate limiting or back-off waits. */
export function testStripePort(services: BillingServices, options: Partial<StripeBillingOptions> = {}): StripeBillingPort {
  return stripeBilling(services.stripe.client(), { livemode: false, requestsPerSecond: Infinity, sleep: async () => undefined, ...options });
}

/** A billing run on the test services as the action makes it: the cost report, the ledger in moto, the local Stripe. */
export function billingRun(services: BillingServices, table: string): (options: BillingRunOptions) => Promise<BillingOutcome> {
  return (options) => {
    const now = new Date(`${options.today}T07:00:00Z`);
    const period = parsePeriod(options.period ?? 'current', now);
    const snapshot = costSnapshot(options.config, period.id, options.today, options.spends ?? []);
    return runBilling(
      {
        loadCosts: async () => snapshot,
        ledger: options.ledger ?? dynamoLedger(services.dynamo, table),
        stripe: options.stripe ?? testStripePort(services),
      },
      options.config,
      { mode: options.mode ?? 'scheduled', period, now, dryRun: false, ...options.extra },
    );
  };
}

/** The billing table's ledger entries and heads, for assertions. */
export async function ledgerItems(dynamo: DynamoDBDocumentClient, tableName: string) {
  const items = await scanTable(dynamo, tableName);
  return {
    entries: items.filter((item) => item.recordType === 'ledger'),
    heads: items.filter((item) => item.recordType === 'ledgerHead'),
  };
}
