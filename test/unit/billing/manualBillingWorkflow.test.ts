import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const PATH = '.github/workflows/manual-billing.yml';

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}

describe('manual-billing workflow', async () => {
  const text = await readFile(PATH, 'utf8');
  const workflow = parse(text) as {
    on: { workflow_dispatch: { inputs: Record<string, { default?: unknown; type?: string }> } };
    concurrency: { 'cancel-in-progress': boolean };
    permissions: Record<string, string>;
    jobs: Record<string, { environment: string; permissions: Record<string, string>; steps: Step[] }>;
  };
  const job = workflow.jobs.bill!;

  it('asks for every manual billing input, with dry-run on by default', () => {
    const inputs = workflow.on.workflow_dispatch.inputs;
    expect(Object.keys(inputs).sort()).toEqual(['amount', 'customer', 'description', 'dry-run', 'mode', 'period']);
    expect(inputs['dry-run']).toMatchObject({ type: 'boolean', default: true });
  });

  it('leaves the period empty by default, so a true-up settles the previous month as the action does', () => {
    expect(workflow.on.workflow_dispatch.inputs.period).toMatchObject({ default: '' });
  });

  it('waits for the billing-approval reviewers and assumes its role through OIDC', () => {
    expect(job.environment).toBe('billing-approval');
    expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(workflow.permissions).toEqual({});
    const credentials = job.steps.find((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    expect(credentials?.with?.['role-to-assume']).toBe('${{ vars.AWS_BILLING_ROLE_ARN }}');
    expect(workflow.concurrency['cancel-in-progress']).toBe(false);
  });

  it('pins every third-party action to a full commit and passes inputs only through with:', () => {
    const remote = job.steps.filter((step) => step.uses && !step.uses.startsWith('./'));
    expect(remote.length).toBeGreaterThan(0);
    for (const step of remote) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    expect(text).toMatch(/@[0-9a-f]{40} # v\d/);
    for (const step of job.steps) expect(step.run ?? '').not.toContain('${{');
    const billing = job.steps.find((step) => step.uses === './actions/billing');
    expect(billing?.with?.customer).toBe('${{ inputs.customer }}');
  });
});
