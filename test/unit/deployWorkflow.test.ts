import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

interface Job {
  needs?: string | string[];
  outputs?: Record<string, string>;
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
  const { ci: check, build, dev, 'prod-plan': plan, prod } = workflow.jobs as { ci: Job; build: Job; dev: Job; 'prod-plan': Job; prod: Job };
  const deployJobs = [dev, plan, prod];
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
    expect(build.needs).toBe('ci');
    expect(dev.needs).toBe('build');
    expect(plan.needs).toEqual(['build', 'dev']);
    expect(prod.needs).toBe('prod-plan');
  });

  it('lets the prod reviewers read the change set before approving the job that executes exactly that change set', () => {
    expect(environmentOf(plan)).toBe('prod');
    expect(scriptStep(plan)?.env).toMatchObject({ CHANGE_SET_ONLY: 'true' });
    expect(scriptStep(plan)?.run).toContain('scripts/deploy-prod.sh');
    expect(scriptStep(prod)?.env).toMatchObject({ EXECUTE_CHANGE_SET: '${{ needs.prod-plan.outputs.change-set }}' });
  });

  it('deploys only main, also when started by hand from another branch', () => {
    expect(build.if).toBe("github.ref == 'refs/heads/main'");
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
    expect(build.permissions).toEqual({ contents: 'read' });
    expect(dev.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(plan.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(prod.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
  });

  it('passes variables to the scripts through env:, never spliced into the shell', () => {
    const runs = [dev, plan, prod].flatMap((job) => job.steps ?? []).flatMap((step) => (step.run ? [step.run] : []));
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) expect(run).not.toContain('${{');
  });

  it('builds the Lambda and lints the template once, in the job without a token, and hands the zip on with its digest', () => {
    const runs = build.steps?.flatMap((step) => (step.run ? [step.run] : [])).join('\n') ?? '';
    expect(runs).toContain('npm ci');
    expect(runs).toContain('cfn-lint -- infrastructure.yaml');
    expect(runs).toContain('node scripts/build.mjs lambda');
    expect(runs).toMatch(/sha256=\$\(sha256sum /);
    expect(build.outputs?.['lambda-sha256']).toBe('${{ steps.zip.outputs.sha256 }}');
    const upload = build.steps?.find((step) => step.uses?.startsWith('actions/upload-artifact@'));
    for (const job of [dev, plan]) {
      const download = job.steps?.find((step) => step.uses?.startsWith('actions/download-artifact@'));
      expect(download?.with?.name).toBe(upload?.with?.name);
      expect(scriptStep(job)?.env).toMatchObject({
        LAMBDA_ZIP: '${{ runner.temp }}/lambda/billing-handler.zip',
        LAMBDA_ZIP_SHA256: '${{ needs.build.outputs.lambda-sha256 }}',
        SKIP_CFN_LINT: 'true',
      });
    }
  });

  it('runs no npm, pip or pipx, and sets up no Node, in a job that can get a token', () => {
    for (const job of deployJobs) {
      for (const step of job.steps ?? []) {
        expect(step.run ?? '').not.toMatch(/\b(npm|npx|pip|pipx)\b/);
        expect(step.uses ?? '').not.toMatch(/^actions\/setup-(node|python)@/);
      }
    }
  });

  it('pins every third-party action to a full commit SHA', () => {
    const remote = Object.values(workflow.jobs)
      .flatMap((job) => job.steps ?? [])
      .flatMap((step) => (step.uses && !step.uses.startsWith('./') ? [step.uses] : []));
    expect(remote.length).toBeGreaterThan(0);
    for (const uses of remote) expect(uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it('lets the execution job only execute the approved change set: no artifact, no build, no upload', () => {
    expect(prod.steps?.some((step) => step.uses?.startsWith('actions/download-artifact@'))).toBe(false);
    expect(scriptStep(prod)?.env).not.toHaveProperty('LAMBDA_ZIP');
  });
});
