import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string>;
}
interface Job {
  needs?: string;
  if?: string;
  environment?: string;
  permissions: Record<string, string>;
  outputs?: Record<string, string>;
  steps: Step[];
}
const workflow = parse(readFileSync('.github/workflows/cost-check.yml', 'utf8')) as {
  on: { schedule: Array<{ cron: string }>; workflow_dispatch: { inputs: Record<string, unknown> } };
  permissions: Record<string, string>;
  concurrency: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<string, Job>;
};

const roleOf = (job: Job) => job.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials'))?.with?.['role-to-assume'];
const usesOf = (job: Job) => job.steps.map((step) => step.uses?.replace(/@.*/, '') ?? `run: ${step.id ?? ''}`);

describe('the daily cost-check workflow', () => {
  const check = workflow.jobs['cost-check']!;
  const billing = workflow.jobs.billing!;

  it('runs at 06:00 UTC and by hand with a period and a dry run', () => {
    expect(workflow.on.schedule).toEqual([{ cron: '0 6 * * *' }]);
    expect(Object.keys(workflow.on.workflow_dispatch.inputs)).toEqual(['period', 'dry-run']);
  });

  it('checks costs with the cost-check role, outside any environment, and bills with the billing role in the billing environment', () => {
    expect(Object.keys(workflow.jobs)).toEqual(['cost-check', 'billing', 'reconcile']);
    expect(check.environment).toBeUndefined();
    expect(roleOf(check)).toBe('${{ vars.AWS_COST_CHECK_ROLE_ARN }}');
    expect(billing.environment).toBe('billing');
    expect(billing.needs).toBe('cost-check');
    expect(roleOf(billing)).toBe('${{ vars.AWS_BILLING_ROLE_ARN }}');
    // The Stripe secret is named only where the billing role is assumed.
    expect(JSON.stringify(check)).not.toContain('stripe-secret-parameter');
  });

  it('grants only what each job needs, and the OIDC token per job', () => {
    expect(workflow.permissions).toEqual({});
    for (const job of [check, billing]) expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  });

  it('never cancels a run that may be talking to Stripe, and never waits behind a manual run pending approval', () => {
    expect(workflow.concurrency).toEqual({ group: 'cost-check', 'cancel-in-progress': false });
    const manual = parse(readFileSync('.github/workflows/manual-billing.yml', 'utf8')) as { concurrency: { group: string; 'cancel-in-progress': boolean } };
    expect(manual.concurrency['cancel-in-progress']).toBe(false);
    expect(manual.concurrency.group).not.toBe(workflow.concurrency.group);
  });

  it('takes the budget threshold from scripts/account-budget.env, the one place it is written', () => {
    const budget = check.steps.find((step) => step.id === 'budget')!;
    expect(budget.run).toContain('scripts/account-budget.env');
    const costs = check.steps.find((step) => step.uses === './actions/cost-check')!;
    expect(costs.with?.['budget-threshold']).toBe('${{ steps.budget.outputs.threshold }}');
  });

  it('checks costs and uploads the report, then the billing job bills the overage from that report and trues up last month', () => {
    expect(usesOf(check)).toEqual([
      'actions/checkout',
      'run: budget',
      'aws-actions/configure-aws-credentials',
      './actions/cost-check',
      'actions/upload-artifact',
    ]);
    const costs = check.steps[3]!;
    const upload = check.steps[4]!;
    expect(upload.with?.path).toBe(`\${{ steps.${costs.id}.outputs.report-path }}`);
    expect(check.outputs?.['over-allowance']).toBe(`\${{ steps.${costs.id}.outputs.over-allowance }}`);

    expect(usesOf(billing)).toEqual([
      'actions/checkout',
      'actions/download-artifact',
      'aws-actions/configure-aws-credentials',
      './actions/billing',
      './actions/billing',
    ]);
    const [, download, , overage, trueUp] = billing.steps as [Step, Step, Step, Step, Step];
    expect(download.with?.name).toBe(upload.with?.name);
    expect(overage.with?.['cost-report']).toBe('cost-report.json');
    expect(overage.if).toContain('needs.cost-check.outputs.over-allowance');
    expect(trueUp.with).toMatchObject({ mode: 'true-up', period: 'previous' });
  });

  it('invoices unattended only on the schedule; a dispatched run always bills as a dry run, showing the plan', () => {
    expect(billing.if).not.toContain('github.event_name');
    expect(billing.if).toContain('!cancelled()');
    expect(billing.if).toContain("needs.cost-check.outputs.costs-outcome != 'skipped'");
    const billingSteps = [...billing.steps, ...workflow.jobs.reconcile!.steps].filter((s) => s.uses === './actions/billing');
    expect(billingSteps.map((step) => step.with?.mode)).toEqual(['scheduled', 'true-up', 'reconcile']);
    for (const step of billingSteps) {
      expect(step.with?.['dry-run']).toBe("${{ github.event_name != 'schedule' }}");
      expect(step.with?.['stripe-secret-parameter']).toBe("${{ vars.STRIPE_SECRET_PARAMETER || '/stripe/prod/secret-key' }}");
    }
  });
});
