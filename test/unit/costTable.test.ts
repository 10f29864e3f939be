import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTemplate, resolveVariant, type Json, type Resource, type Template } from '../support/cloudformation.js';

/**
 * The README's cost table against the templates: every billable resource type of each Monitoring variant (and of the
 * bootstrap) has a row with a figure in that variant's column, the alarm metrics it states are the template's, and each
 * column's total is the sum of its rows. A template that gains a billable resource fails here until the table lists it.
 */
const README = readFileSync('README.md', 'utf8');

/** Types AWS does not bill for as such (their traffic is billed through a listed resource, such as the HTTP API). */
const NOT_BILLED = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::OIDCProvider',
  'AWS::Lambda::Permission',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::Stage',
  'AWS::SNS::TopicPolicy',
  'AWS::S3::BucketPolicy',
]);

interface CostRow {
  readonly resource: string;
  readonly types: string[];
  readonly basic: string;
  readonly full: string;
}

function costTable(): { rows: CostRow[]; total: CostRow } {
  const start = README.indexOf('### What it costs');
  expect(start, 'README section "### What it costs"').toBeGreaterThan(-1);
  const section = README.slice(start, README.indexOf('\n## ', start));
  const cells = section
    .split('\n')
    .filter((line) => line.startsWith('| '))
    .slice(1)
    .map((line) => line.replace(/^\|\s*|\s*\|$/g, '').split(/\s*\|\s*/));
  const rows = cells.map(([resource = '', , , basic = '', full = '']) => ({
    resource,
    types: [...resource.matchAll(/`(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)`/g)].map((m) => m[1]!),
    basic: basic.replaceAll('*', ''),
    full: full.replaceAll('*', ''),
  }));
  const total = rows.find((row) => row.resource.includes('Total'));
  expect(total, 'a **Total** row').toBeDefined();
  return { rows: rows.filter((row) => row !== total), total: total! };
}

const infrastructure = loadTemplate('infrastructure.yaml');
const bootstrap = loadTemplate('scripts/bootstrap.yaml');
const PARAMETERS = {
  AlertEmail: 'billing@example.com',
  BudgetThreshold: '800',
  ArtifactBucket: 'b',
  ArtifactKey: 'k.zip',
  GitHubOwner: 'o',
  GitHubRepository: 'r',
};
const variant = (monitoring: 'basic' | 'full', environment: string) =>
  resolveVariant(infrastructure, { ...PARAMETERS, Environment: environment, Monitoring: monitoring });
const billedTypes = (...templates: Template[]) =>
  new Set(templates.flatMap((t) => Object.values(t.Resources).map((r: Resource) => r.Type)).filter((type) => !NOT_BILLED.has(type)));

/** Alarm metrics as CloudWatch bills them: one per single-metric alarm, one per metric of a metric-math alarm. */
function alarmMetrics(template: Template): number {
  return Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .reduce(
      (sum, alarm) => sum + (alarm.Properties?.Metrics ? (alarm.Properties.Metrics as Array<{ MetricStat?: Json }>).filter((m) => m.MetricStat).length : 1),
      0,
    );
}

const cents = (figure: string) => Math.round(Number(figure) * 100);

describe('the README cost table', () => {
  const { rows, total } = costTable();

  it.each(['basic', 'full'] as const)('lists every billable resource of a %s prod and dev stack and of the bootstrap, with a figure', (monitoring) => {
    const types = billedTypes(variant(monitoring, 'prod'), variant(monitoring, 'dev'), bootstrap);
    expect(types.size).toBeGreaterThan(5);
    for (const type of types) {
      const row = rows.find((r) => r.types.includes(type));
      expect(row, `${type} has no row in the README cost table`).toBeDefined();
      expect(row![monitoring], `${type}: ${monitoring} column`).toMatch(/^\d+\.\d\d$/);
    }
  });

  it('has no row for a resource type the templates do not create', () => {
    const all = billedTypes(variant('basic', 'prod'), variant('full', 'prod'), bootstrap);
    for (const row of rows) for (const type of row.types) expect(all, row.resource).toContain(type);
  });

  it('states the alarm metrics of each variant as the templates define them', () => {
    const row = rows.find((r) => r.types.includes('AWS::CloudWatch::Alarm'))!;
    for (const monitoring of ['basic', 'full'] as const) {
      const stack = variant(monitoring, 'prod');
      const alarms = Object.values(stack.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').length;
      expect(row.resource).toContain(`${monitoring}: ${alarms} alarms, ${alarmMetrics(stack)} alarm metrics`);
    }
    expect(alarmMetrics(variant('basic', 'prod'))).toBeLessThanOrEqual(5); // two stacks stay inside the free 10
  });

  it('charges custom metrics to full only, where the function turns embedded metrics on', () => {
    const row = rows.find((r) => r.resource.startsWith('Custom metrics'))!;
    const metricsOf = (monitoring: 'basic' | 'full') =>
      (variant(monitoring, 'prod').Resources.WebhookFunction?.Properties?.Environment as { Variables: Record<string, Json> }).Variables.WEBHOOK_METRICS;
    expect([metricsOf('basic'), row.basic]).toEqual(['off', '–']);
    expect(metricsOf('full')).toBe('emf');
    expect(row.full).toMatch(/^\d+\.\d\d$/);
  });

  it('totals each column, and basic stays at or under 1.00 USD a month', () => {
    for (const monitoring of ['basic', 'full'] as const) {
      const sum = rows.reduce((cents_, row) => cents_ + (row[monitoring] === '–' ? 0 : cents(row[monitoring])), 0);
      expect(cents(total[monitoring]), monitoring).toBe(sum);
    }
    expect(cents(total.basic)).toBeLessThanOrEqual(100);
  });
});
