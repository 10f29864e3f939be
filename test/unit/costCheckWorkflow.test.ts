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
  on: { schedule: Array<{ cron: string }>; workflow_dispatch: { inputs: Record<string, unknown> } };
  permissions: Record<string, string>;
  concurrency: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<string, { permissions: Record<string, string>; steps: Step[] }>;
};

describe('the daily cost-check workflow', () => {
  const job = workflow.jobs['cost-check']!;
  const uses = job.steps.map((step) => step.uses?.replace(/@.*/, '') ?? '');

  it('runs at 06:00 UTC and by hand with a period and a dry run', () => {
    expect(workflow.on.schedule).toEqual([{ cron: '0 6 * * *' }]);
    expect(Object.keys(workflow.on.workflow_dispatch.inputs)).toEqual(['period', 'dry-run']);
  });

  it('grants only what the job needs, and the OIDC token only to that job', () => {
    expect(workflow.permissions).toEqual({});
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(job.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials'))?.with?.['role-to-assume']).toBe(
      '${{ vars.AWS_BILLING_ROLE_ARN }}',
    );
  });

  it('never cancels a run that may be talking to Stripe, and never waits behind a manual run pending approval', () => {
    expect(workflow.concurrency).toEqual({ group: 'cost-check', 'cancel-in-progress': false });
    const manual = parse(readFileSync('.github/workflows/manual-billing.yml', 'utf8')) as { concurrency: { group: string; 'cancel-in-progress': boolean } };
    expect(manual.concurrency['cancel-in-progress']).toBe(false);
    expect(manual.concurrency.group).not.toBe(workflow.concurrency.group);
  });

  it('checks costs, uploads the report, then bills the overage and trues up last month', () => {
    expect(uses).toEqual([
      'actions/checkout',
      'aws-actions/configure-aws-credentials',
      './actions/cost-check',
      'actions/upload-artifact',
      './actions/billing',
      './actions/billing',
    ]);
    const [, , costs, upload, overage, trueUp] = job.steps as [Step, Step, Step, Step, Step, Step];
    expect(upload.with?.path).toBe(`\${{ steps.${costs.id}.outputs.report-path }}`);
    expect(overage.with?.['cost-report']).toBe(`\${{ steps.${costs.id}.outputs.report-path }}`);
    expect(overage.if).toContain('over-allowance');
    expect(trueUp.with).toMatchObject({ mode: 'true-up', period: 'previous' });
  });

  it('invoices unattended only on the schedule; a dispatched run always bills as a dry run, showing the plan', () => {
    const [, , , , overage, trueUp] = job.steps as [Step, Step, Step, Step, Step, Step];
    for (const step of [overage, trueUp]) {
      expect(step.if).not.toContain('github.event_name');
      expect(step.if).toContain('!cancelled()');
      expect(step.with?.['dry-run']).toBe("${{ github.event_name != 'schedule' }}");
      expect(step.with?.['stripe-secret-parameter']).toBe("${{ vars.STRIPE_SECRET_PARAMETER || '/stripe/secret-key' }}");
    }
    expect(trueUp.if).toContain("steps.costs.outcome != 'skipped'");
  });
});
