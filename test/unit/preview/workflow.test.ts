import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}
const text = readFileSync('.github/workflows/billing-preview.yml', 'utf8');
const workflow = parse(text) as {
  on: Record<string, { paths: string[] }>;
  permissions: Record<string, string>;
  concurrency: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<string, { permissions: Record<string, string>; steps: Step[] }>;
};

describe('the billing preview workflow', () => {
  const job = workflow.jobs.preview!;

  it('runs on pull requests that change the billing config, never with the base repository’s secrets', () => {
    expect(workflow.on).toEqual({ pull_request: { paths: ['billing.config.yaml'] } });
  });

  it('grants exactly contents read, actions read and pull-requests write, and no OIDC token', () => {
    expect(workflow.permissions).toEqual({});
    expect(job.permissions).toEqual({ contents: 'read', actions: 'read', 'pull-requests': 'write' });
  });

  it('runs the preview action after a checkout that keeps no credentials, with no expression in a script', () => {
    expect(job.steps.map((step) => step.uses?.replace(/@.*/, ''))).toEqual(['actions/checkout', './actions/billing-preview']);
    expect(job.steps[0]?.with?.['persist-credentials']).toBe(false);
    expect(job.steps.filter((step) => step.run?.includes('${{'))).toEqual([]);
    expect(workflow.concurrency.group).toBe('billing-preview-${{ github.event.pull_request.number }}');
  });
});
