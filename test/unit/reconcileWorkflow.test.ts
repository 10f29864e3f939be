import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

interface Step {
  id?: string;
  uses?: string;
  if?: string;
  with?: Record<string, string>;
}
const workflow = parse(readFileSync('.github/workflows/cost-check.yml', 'utf8')) as {
  jobs: Record<string, { needs?: string | string[]; if?: string; environment?: string; permissions: Record<string, string>; steps: Step[] }>;
};

describe('the daily reconciliation with Stripe', () => {
  const job = workflow.jobs.reconcile!;

  it('runs after the cost check and billing, also when they failed (a dispatched run repairs nothing)', () => {
    expect(job.needs).toEqual(['cost-check', 'billing']);
    expect(job.if).toBe('${{ !cancelled() }}');
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  });

  it('reads the Stripe key only as billing does: with the billing role, in the billing environment', () => {
    expect(job.environment).toBe('billing');
    const credentials = job.steps.find((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials'));
    expect(credentials?.with?.['role-to-assume']).toBe('${{ vars.AWS_BILLING_ROLE_ARN }}');
  });

  it('runs the billing action in reconcile mode and keeps its report', () => {
    const reconcile = job.steps.find((step) => step.uses === './actions/billing')!;
    expect(reconcile.with).toMatchObject({
      mode: 'reconcile',
      'dry-run': "${{ github.event_name != 'schedule' }}",
      'billing-table': '${{ vars.BILLING_TABLE }}',
    });
    const upload = job.steps.find((step) => step.uses?.startsWith('actions/upload-artifact'));
    expect(upload?.with?.path).toBe(`\${{ steps.${reconcile.id}.outputs.report-path }}`);
  });
});
