import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * scripts/bootstrap.sh with the AWS CLI and gh replaced by stubs on PATH: the stack deploy answers like an account
 * without the OIDC provider, and gh like a signed-in owner of the repository. Every call is logged, the standard
 * input of `gh api --input -` included, so the test reads what would reach GitHub's API.
 */
const workdir = mkdtempSync(join(tmpdir(), 'bootstrap-script-'));
afterAll(() => rmSync(workdir, { recursive: true, force: true }));

const DEPLOY_ROLE = 'arn:aws:iam::123456789012:role/stripe-billing-bootstrap-prod-DeployRole-ABC';
const LOG_CALL = `(IFS=$'\\t'; printf '%s\\n' "$*") >>"$STUB_LOG_DIR/$(basename "$0").log"`;

const AWS_STUB = `#!/usr/bin/env bash
${LOG_CALL}
case "$1 $2" in
  "sts get-caller-identity") echo 123456789012 ;;
  "iam list-open-id-connect-providers") echo None ;;
  "cloudformation deploy") ;;
  "cloudformation describe-stacks")
    case "$*" in
      *DeployRoleArn*) echo ${DEPLOY_ROLE} ;;
      *) printf 'DeployRoleArn\\t${DEPLOY_ROLE}\\n' ;;
    esac ;;
  *) echo "unexpected aws $*" >&2; exit 2 ;;
esac
`;

const GH_STUB = `#!/usr/bin/env bash
${LOG_CALL}
if [[ "$*" == *"--input -"* ]]; then cat >>"$STUB_LOG_DIR/gh-input.log"; echo >>"$STUB_LOG_DIR/gh-input.log"; fi
case "$*" in
  "auth status") ;;
  "api users/alice --jq .id") echo 101 ;;
  "api users/bob --jq .id") echo 202 ;;
  *deployment-branch-policies" --jq "*) [[ "$*" == *environments/billing/* ]] && echo main ;;
  *) ;;
esac
`;

function stubs(name: string, withGh: boolean): string {
  const bin = join(workdir, name, 'bin');
  mkdirSync(bin, { recursive: true });
  const tools: Record<string, string> = withGh ? { aws: AWS_STUB, gh: GH_STUB } : { aws: AWS_STUB };
  for (const [tool, body] of Object.entries(tools)) {
    writeFileSync(join(bin, tool), body);
    chmodSync(join(bin, tool), 0o755);
  }
  return bin;
}

function bootstrap(name: string, environment: string, env: Record<string, string>, withGh = true) {
  const run = join(workdir, name);
  const bin = stubs(name, withGh);
  const result = spawnSync('bash', ['scripts/bootstrap.sh', environment, 'eu-west-1'], {
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: process.env.HOME, GITHUB_REPOSITORY: 'acme/aws-stripe-billing', STUB_LOG_DIR: run, ...env },
  });
  const lines = (file: string) => (existsSync(join(run, file)) ? readFileSync(join(run, file), 'utf8').split('\n').filter(Boolean) : []);
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    aws: lines('aws.log').map((line) => line.split('\t')),
    gh: lines('gh.log').map((line) => line.split('\t')),
    ghInput: lines('gh-input.log').map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const BRANCH_MAIN_ONLY = { deployment_branch_policy: { protected_branches: false, custom_branch_policies: true } };

describe('scripts/bootstrap.sh GitHub environments through gh api', () => {
  const run = bootstrap('prod-gh', 'prod', { GITHUB_REVIEWERS: 'alice,bob' });
  const puts = run.gh.filter((args) => args.join(' ').startsWith('api --method PUT'));

  it('deploys the bootstrap stack, then creates prod, billing and billing-approval', () => {
    expect(run.status, run.stderr).toBe(0);
    expect(run.aws.some((args) => args[0] === 'cloudformation' && args[1] === 'deploy')).toBe(true);
    expect(puts.map((args) => args[3])).toEqual([
      'repos/acme/aws-stripe-billing/environments/prod',
      'repos/acme/aws-stripe-billing/environments/billing',
      'repos/acme/aws-stripe-billing/environments/billing-approval',
    ]);
  });

  it('gives prod and billing-approval the reviewers, who may not approve their own runs, and every environment main only', () => {
    const reviewed = {
      prevent_self_review: true,
      reviewers: [
        { type: 'User', id: 101 },
        { type: 'User', id: 202 },
      ],
      ...BRANCH_MAIN_ONLY,
    };
    expect(run.ghInput).toEqual([reviewed, BRANCH_MAIN_ONLY, reviewed]);
  });

  it('adds the branch policy main where it is missing, and only there', () => {
    const posts = run.gh.filter((args) => args.join(' ').startsWith('api --method POST')).map((args) => args.join(' '));
    expect(posts).toEqual([
      'api --method POST repos/acme/aws-stripe-billing/environments/prod/deployment-branch-policies -f name=main -f type=branch',
      'api --method POST repos/acme/aws-stripe-billing/environments/billing-approval/deployment-branch-policies -f name=main -f type=branch',
    ]);
  });

  it('sets the deploy role and region as variables of the prod environment', () => {
    const variables = run.gh.filter((args) => args[0] === 'variable').map((args) => args.join(' '));
    expect(variables).toEqual([
      `variable set AWS_DEPLOY_ROLE_ARN --repo acme/aws-stripe-billing --env prod --body ${DEPLOY_ROLE}`,
      'variable set AWS_REGION --repo acme/aws-stripe-billing --env prod --body eu-west-1',
    ]);
  });
});

describe('scripts/bootstrap.sh without gh', () => {
  it('prints the exact commands for the dev environment, main only, and their JSON is valid', () => {
    const run = bootstrap('dev-print', 'dev', {}, false);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain('gh is not installed or not signed in');
    const put = run.stdout.split('\n').find((line) => line.includes('--method PUT'))!;
    expect(put).toContain('| gh api --method PUT repos/acme/aws-stripe-billing/environments/dev --input -');
    const echoed = spawnSync('bash', ['-c', put.split('|')[0]!], { encoding: 'utf8' }).stdout;
    expect(JSON.parse(echoed)).toEqual(BRANCH_MAIN_ONLY);
    expect(run.stdout).toContain('gh api --method POST repos/acme/aws-stripe-billing/environments/dev/deployment-branch-policies -f name=main -f type=branch');
    expect(run.stdout).toContain(`gh variable set AWS_DEPLOY_ROLE_ARN --repo acme/aws-stripe-billing --env dev --body ${DEPLOY_ROLE}`);
    expect(run.stdout).toContain('--name /stripe/dev/secret-key');
  });

  it('prints reviewers of prod as the gh lookups of their ids', () => {
    const run = bootstrap('prod-print', 'prod', { GITHUB_REVIEWERS: 'alice' }, false);
    expect(run.status, run.stderr).toBe(0);
    const puts = run.stdout.split('\n').filter((line) => line.includes('--method PUT'));
    expect(puts).toHaveLength(3);
    expect(puts[0]).toContain('\\"prevent_self_review\\":true,\\"reviewers\\":[{\\"type\\":\\"User\\",\\"id\\":$(gh api users/alice --jq .id)}]');
  });
});

describe('scripts/bootstrap.sh refuses before any AWS call', () => {
  it('a prod bootstrap without reviewers', () => {
    const run = bootstrap('prod-no-reviewers', 'prod', {});
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('GITHUB_REVIEWERS is required for prod');
    expect(run.aws).toEqual([]);
  });

  it('a reviewer that is not a GitHub login', () => {
    const run = bootstrap('bad-reviewer', 'prod', { GITHUB_REVIEWERS: 'alice,not a login' });
    expect(run.stderr).toContain("GITHUB_REVIEWERS must be GitHub logins separated by commas, such as alice,bob (got 'not a login')");
    expect(run.aws).toEqual([]);
  });
});
