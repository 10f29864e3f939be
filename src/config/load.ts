import { readFile, stat } from 'node:fs/promises';
import type { AnomalySettings } from '../anomalies/detect.js';
import { CORE_SCHEMA, loadAll, YAMLException } from 'js-yaml';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { fromUnits, type Micros } from '../money.js';
import { billingConfigSchema, type CustomerConfig } from './schema.js';

/** How Cost Explorer data is attributed to customers. */
export type Allocation = { kind: 'LINKED_ACCOUNT' } | { kind: 'TAG'; key: string } | { kind: 'COST_CATEGORY'; name: string } | { kind: 'NONE' };

export interface Customer {
  readonly id: string;
  readonly name: string;
  /** The value of the allocation dimension that identifies this customer; undefined with allocation NONE. */
  readonly match: string | undefined;
  readonly stripeCustomerId: string;
  readonly allowance: Micros;
  readonly markupPercent: number;
  readonly currency: string;
  readonly alertLevels: readonly number[];
  readonly mode: 'invoice' | 'meter';
  readonly meterEventName: string | undefined;
}

export interface BillingConfig {
  readonly currency: string;
  readonly allocation: Allocation;
  readonly excludeRecordTypes: readonly string[];
  readonly alertLevels: readonly number[];
  readonly forecastAlertLevels: readonly number[];
  readonly billing: {
    readonly minimumInvoiceAmount: Micros;
    readonly trueUpDay: number;
    readonly collectionMethod: 'send_invoice' | 'charge_automatically';
    readonly daysUntilDue: number;
    /** AWS services with their own invoice line, largest charge first; the others share one line. */
    readonly invoiceServiceLines: number;
  };
  readonly anomalies: AnomalySettings;
  readonly customers: readonly Customer[];
}

/** Far above a real config (10,000 customers take about 1.5 MB); a bigger file is a mistake or an attack. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Anchors are welcome (`&defaults` / `*defaults`); an alias bomb expands a few lines into billions of nodes. */
export const MAX_CONFIG_ALIASES = 1000;
/** The config is a few levels deep; thousands of levels only exhaust the parser's stack. */
export const MAX_CONFIG_DEPTH = 32;

export async function loadBillingConfig(path: string): Promise<BillingConfig> {
  let text: string;
  try {
    const size = (await stat(path)).size;
    if (size > MAX_CONFIG_BYTES) throw new ConfigError([tooLarge(path, size)]);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
    throw new ConfigError([
      `config: the billing config file "${path}" ${reason}; create it (the README's configuration reference; scripts/demo/billing.config.yaml is an example) or set the config input to its path`,
    ]);
  }
  return parseBillingConfig(text, path);
}

export function parseBillingConfig(text: string, source = 'billing config'): BillingConfig {
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_CONFIG_BYTES) throw new ConfigError([tooLarge(source, size)]);
  const raw = parseYaml(text, source);
  const shape = shapeOf(raw);
  if (shape.depth > MAX_CONFIG_DEPTH) throw new ConfigError([tooDeep(source)]);
  if (shape.aliasedNodes > MAX_CONFIG_ALIASES) {
    throw new ConfigError([
      `${source}: its aliases (*name) expand to more than ${MAX_CONFIG_ALIASES} nodes, as in a YAML "billion laughs" bomb; write the values out or use fewer aliases`,
    ]);
  }
  return validateBillingConfig(raw);
}

/**
 * The config's one YAML document as plain data (undefined for an empty file). js-yaml reads it without the `yaml`
 * package's syntax tree: at 10,000 customers 0.4 s of CPU instead of 1.6 s, and 60 MB less heap. An alias is a shared
 * reference there, never a copy, so a bomb costs nothing until `shapeOf` counts it. A file it refuses is read again
 * by `yaml` for the error, whose messages say more ("Flow sequence ... must end with a ]").
 */
function parseYaml(text: string, source: string): unknown {
  let documents: unknown[];
  try {
    documents = loadAll(text, { schema: CORE_SCHEMA, maxDepth: MAX_CONFIG_DEPTH });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    if (error.reason.startsWith('nesting exceeded maxDepth')) throw new ConfigError([tooDeep(source)]);
    throw new ConfigError(yamlProblems(text, source, error));
  }
  if (documents.length > 1) {
    throw new ConfigError([`${source}: not valid YAML: holds ${documents.length} documents (separated by ---); a billing config is one`]);
  }
  return documents[0];
}

function yamlProblems(text: string, source: string, error: YAMLException): string[] {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.some((e) => e.message.includes('Maximum call stack size exceeded'))) return [tooDeep(source)];
  if (document.errors.length > 0) return document.errors.map((e) => `${source}: not valid YAML: ${e.message.split('\n')[0]}`);
  const where = error.mark ? ` at line ${error.mark.line + 1}, column ${error.mark.column + 1}` : '';
  return [`${source}: not valid YAML: ${error.reason}${where}`];
}

function tooDeep(source: string): string {
  return `${source}: nested more than ${MAX_CONFIG_DEPTH} levels deep; the config's deepest field (customers[].alertLevels) is 3 levels down`;
}

function tooLarge(source: string, size: number): string {
  return `${source}: is ${(size / 1024 / 1024).toFixed(1)} MiB; a billing config must be at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB`;
}

/**
 * How many levels of lists and maps `value` holds, and how many lists and maps its aliases repeat (each one met
 * again, counted inside a repeated one too, as it would be copied), without recursion. It stops past either limit,
 * so a bomb's billions of nodes are never walked.
 */
function shapeOf(value: unknown): { depth: number; aliasedNodes: number } {
  let depth = 0;
  let aliasedNodes = 0;
  const seen = new Set<object>();
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [node, level] = pending.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (seen.has(node)) aliasedNodes++;
    else seen.add(node);
    depth = Math.max(depth, level + 1);
    if (depth > MAX_CONFIG_DEPTH || aliasedNodes > MAX_CONFIG_ALIASES) break;
    for (const child of Object.values(node)) pending.push([child, level + 1]);
  }
  return { depth, aliasedNodes };
}

export function validateBillingConfig(raw: unknown): BillingConfig {
  const result = billingConfigSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(result.error.issues.map((issue) => describeIssue(issue, raw)));
  const config = result.data;
  return {
    currency: config.currency,
    allocation: parseAllocation(config.allocation),
    excludeRecordTypes: config.excludeRecordTypes,
    alertLevels: config.alertLevels,
    forecastAlertLevels: config.forecastAlertLevels,
    billing: { ...config.billing, minimumInvoiceAmount: fromUnits(config.billing.minimumInvoiceAmount) },
    anomalies: { ...config.anomalies, minimum: fromUnits(config.anomalies.minimum) },
    customers: config.customers.map((customer: CustomerConfig) => ({
      id: customer.id,
      name: customer.name,
      match: config.allocation === 'NONE' ? undefined : customer.match,
      stripeCustomerId: customer.stripeCustomerId,
      allowance: fromUnits(customer.allowance),
      markupPercent: customer.markupPercent,
      currency: customer.currency ?? config.currency,
      alertLevels: customer.alertLevels ?? config.alertLevels,
      mode: customer.mode,
      meterEventName: customer.meterEventName,
    })),
  };
}

function parseAllocation(text: string): Allocation {
  if (text === 'LINKED_ACCOUNT' || text === 'NONE') return { kind: text };
  const [kind, ...rest] = text.split(':');
  const value = rest.join(':');
  return kind === 'TAG' ? { kind: 'TAG', key: value } : { kind: 'COST_CATEGORY', name: value };
}

/** "customers[1].stripeCustomerId: "cus" is not accepted; expected a Stripe customer id such as cus_Q1a2b3" */
export function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const field = issue.path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)), '');
  if (issue.code === 'unrecognized_keys') {
    return `${field || 'config'}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling against the README's configuration reference)`;
  }
  const value = valueAt(raw, issue.path);
  const shown = value === undefined ? 'is missing' : `is ${JSON.stringify(value)}`;
  return `${field || 'config'} ${shown}; expected ${issue.message}`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
