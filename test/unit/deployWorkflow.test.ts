import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

interface Job {
  needs?: string;
  if?: string;
  uses?: string;
  environment?: string | { name: string };
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  permissions: Record<string, string>;
  steps?: Array<{ uses?: string; run?: string; env?: Record<string, string>; with?: Record<string, string> }>;
}
const workflow = parse(readFileSync('.github/workflows/deploy.yml', 'utf8')) as {
  on: { push: { branches: string[]; paths: string[] }; workflow_dispatch: unknown };
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
};
const ci = parse(readFileSync('.github/workflows/ci.yml', 'utf8')) as { on: Record<string, unknown> };

describe('the deploy workflow', () => {
  const { ci: check, dev, 'prod-plan': plan, prod } = workflow.jobs as { ci: Job; dev: Job; 'prod-plan': Job; prod: Job };
  const environmentOf = (job: Job) => (typeof job.environment === 'string' ? job.environment : job.environment?.name);
  const scriptStep = (job: Job) => job.steps?.find((step) => step.run?.startsWith('scripts/deploy'));

  it('deploys on a push to main that changes what the stack is built from, or by hand', () => {
    expect(workflow.on.push.branches).toEqual(['main']);
    expect(workflow.on.push.paths).toEqual(expect.arrayContaining(['lambda/**', 'src/**', 'infrastructure.yaml', 'scripts/**']));
    expect(workflow.on).toHaveProperty('workflow_dispatch');
  });

  it('deploys nothing CI has not passed: dev after CI, the prod plan after dev, prod after its plan', () => {
    expect(check.uses).toBe('./.github/workflows/ci.yml');
    expect(ci.on).toHaveProperty('workflow_call');
    expect(dev.needs).toBe('ci');
    expect(plan.needs).toBe('dev');
    expect(prod.needs).toBe('prod-plan');
  });

  it('lets the prod reviewers read the change set before approving the job that executes exactly that change set', () => {
    expect(environmentOf(plan)).toBe('prod');
    expect(scriptStep(plan)?.env).toMatchObject({ CHANGE_SET_ONLY: 'true' });
    expect(scriptStep(plan)?.run).toContain('scripts/deploy-prod.sh');
    expect(scriptStep(prod)?.env).toMatchObject({ EXECUTE_CHANGE_SET: '${{ needs.prod-plan.outputs.change-set }}' });
  });

  it('deploys only main, also when started by hand from another branch', () => {
    expect(dev.if).toBe("github.ref == 'refs/heads/main'");
  });

  it('puts each deploy in its own environment, queued and never cancelled mid-deploy', () => {
    for (const [job, name] of [
      [dev, 'dev'],
      [plan, 'prod'],
      [prod, 'prod'],
    ] as const) {
      expect(environmentOf(job)).toBe(name);
      expect(job.concurrency).toEqual({ group: `deploy-${name}`, 'cancel-in-progress': false });
      expect(job.steps?.find((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials'))?.with?.['role-to-assume']).toBe(
        '${{ vars.AWS_DEPLOY_ROLE_ARN }}',
      );
    }
    expect(prod.steps?.some((step) => step.run?.startsWith('scripts/deploy-prod.sh'))).toBe(true);
  });

  it('grants the OIDC token only to the deploy jobs and nothing at the top', () => {
    expect(workflow.permissions).toEqual({});
    expect(check.permissions).toEqual({ contents: 'read' });
    expect(dev.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(plan.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(prod.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  });

  it('passes variables to the scripts through env:, never spliced into the shell', () => {
    const runs = [dev, plan, prod].flatMap((job) => job.steps ?? []).flatMap((step) => (step.run ? [step.run] : []));
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) expect(run).not.toContain('${{');
  });
});
