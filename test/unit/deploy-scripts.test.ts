import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The pre-deploy checks of scripts/deploy.sh fail early with an error that says what to do. The AWS CLI is replaced
 * by a stub on PATH that answers like an account in the given state; nothing reaches AWS. cfn-lint is a stub that
 * passes: the real one lints the template in `npm run lint`, and these checks are about the account.
 */
const workdir = mkdtempSync(join(tmpdir(), 'deploy-scripts-'));
afterAll(() => rmSync(workdir, { recursive: true, force: true }));

/** A stub `aws` whose answers come from a case statement on "$1 $2" (service and command), beside a passing cfn-lint. */
function stubAws(name: string, cases: string): string {
  const dir = join(workdir, name);
  spawnSync('mkdir', ['-p', dir]);
  const file = join(dir, 'aws');
  writeFileSync(file, `#!/usr/bin/env bash\ncase "$1 $2" in\n${cases}\n  *) echo "unexpected aws $*" >&2; exit 2 ;;\nesac\n`);
  chmodSync(file, 0o755);
  writeFileSync(join(dir, 'cfn-lint'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(dir, 'cfn-lint'), 0o755);
  return dir;
}

const BASH = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();

function deploy(args: string[], env: Record<string, string | undefined>, script = 'scripts/deploy.sh') {
  const result = spawnSync(BASH, [script, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_REPOSITORY: 'acme/aws-stripe-billing', ...env },
  });
  return { status: result.status, stderr: result.stderr };
}

const SIGNED_IN = `  "sts get-caller-identity") echo 123456789012 ;;`;
const BOOTSTRAPPED = `  "cloudformation describe-stacks")
    case "$*" in
      *ArtifactsBucketName*) echo stripe-billing-artifacts ;;
      *ExecutionRoleArn*) echo arn:aws:iam::123456789012:role/exec ;;
      *PermissionsBoundaryArn*) echo arn:aws:iam::123456789012:policy/boundary ;;
      *) exit 255 ;;
    esac ;;`;

describe('scripts/deploy.sh pre-deploy checks', () => {
  it('explains its usage when the arguments are missing', () => {
    const { status, stderr } = deploy([], {});
    expect(status).toBe(1);
    expect(stderr).toContain('usage: GITHUB_REPOSITORY=OWNER/REPO scripts/deploy.sh ENV REGION');
  });

  it('rejects an unknown environment and a malformed region', () => {
    expect(deploy(['qa', 'eu-west-1'], {}).stderr).toContain("environment must be dev, staging or prod (got 'qa')");
    expect(deploy(['dev', 'Ireland'], {}).stderr).toContain("region must look like eu-west-1 (got 'Ireland')");
  });

  it('names the missing AWS CLI and how to install it', () => {
    const bin = join(workdir, 'no-aws');
    spawnSync('mkdir', ['-p', bin]);
    symlinkSync(spawnSync('bash', ['-c', 'command -v dirname'], { encoding: 'utf8' }).stdout.trim(), join(bin, 'dirname'));
    const { status, stderr } = deploy(['dev', 'eu-west-1'], { PATH: bin });
    expect(status).toBe(1);
    expect(stderr).toContain("'aws' is not installed. Install AWS CLI v2");
  });

  it('asks for GITHUB_REPOSITORY when it is not set', () => {
    const path = `${stubAws('signed-in', SIGNED_IN)}:${process.env.PATH}`;
    expect(deploy(['dev', 'eu-west-1'], { PATH: path, GITHUB_REPOSITORY: undefined }).stderr).toContain('GITHUB_REPOSITORY must be OWNER/REPO');
  });

  it('says how to get credentials when there are none', () => {
    const path = `${stubAws('signed-out', '  "sts get-caller-identity") echo "Unable to locate credentials" >&2; exit 255 ;;')}:${process.env.PATH}`;
    const { status, stderr } = deploy(['dev', 'eu-west-1'], { PATH: path });
    expect(status).toBe(1);
    expect(stderr).toContain('no usable AWS credentials for region eu-west-1');
  });

  it('points to bootstrap.sh when the environment was never bootstrapped', () => {
    const path = `${stubAws('not-bootstrapped', `${SIGNED_IN}\n  "cloudformation describe-stacks") exit 255 ;;`)}:${process.env.PATH}`;
    const { status, stderr } = deploy(['dev', 'eu-west-1'], { PATH: path });
    expect(status).toBe(1);
    expect(stderr).toContain('stack stripe-billing-bootstrap-dev (or its outputs) not found in eu-west-1: run scripts/bootstrap.sh dev eu-west-1 first');
  });

  it('refuses a Stripe parameter that is missing or not a SecureString', () => {
    const missing = `${stubAws('no-parameter', `${SIGNED_IN}\n${BOOTSTRAPPED}\n  "ssm describe-parameters") echo None ;;`)}:${process.env.PATH}`;
    expect(deploy(['dev', 'eu-west-1'], { PATH: missing, SKIP_CFN_LINT: 'true' }).stderr).toContain(
      'SSM parameter /stripe/dev/webhook-secret does not exist. Create it: aws ssm put-parameter --region eu-west-1 --type SecureString --name /stripe/dev/webhook-secret',
    );
    const plain = `${stubAws('plain-parameter', `${SIGNED_IN}\n${BOOTSTRAPPED}\n  "ssm describe-parameters") echo String ;;`)}:${process.env.PATH}`;
    const { status, stderr } = deploy(['dev', 'eu-west-1'], { PATH: plain, SKIP_CFN_LINT: 'true' });
    expect(status).toBe(1);
    expect(stderr).toContain('SSM parameter /stripe/dev/webhook-secret is a String; it must be a SecureString');
  });

  it('rejects a budget file whose threshold is not a whole number of USD, naming the file and the accepted form', () => {
    const file = join(workdir, 'budget.env');
    writeFileSync(file, 'BUDGET_THRESHOLD=12.5\n');
    expect(deploy(['dev', 'eu-west-1'], { BUDGET_FILE: file }).stderr).toContain(
      `BUDGET_THRESHOLD in ${file} must be a whole number of USD above 0, written BUDGET_THRESHOLD=<USD> (got '12.5')`,
    );
  });

  it("refuses Stripe parameter names outside the environment's own /stripe/ENV/ (the permissions boundary)", () => {
    const { status, stderr } = deploy(['dev', 'eu-west-1'], { STRIPE_SECRET_KEY_PARAMETER: '/stripe/prod/secret-key' });
    expect(status).toBe(1);
    expect(stderr).toContain(
      "STRIPE_SECRET_KEY_PARAMETER must be an SSM name under /stripe/dev/, such as /stripe/dev/secret-key (got '/stripe/prod/secret-key')",
    );
    expect(deploy(['dev', 'eu-west-1'], { WEBHOOK_SECRET_PARAMETER: '/stripe/webhook-secret' }).stderr).toContain(
      'WEBHOOK_SECRET_PARAMETER must be an SSM name under /stripe/dev/',
    );
  });

  it('finds the budget figure in scripts/account-budget.env only: not in the template, the scripts or the workflows', () => {
    expect(readFileSync('scripts/account-budget.env', 'utf8')).toMatch(/^BUDGET_THRESHOLD=[1-9]\d*$/m);
    const files = [
      'infrastructure.yaml',
      ...readdirSync('scripts')
        .filter((name) => name.endsWith('.sh'))
        .map((name) => `scripts/${name}`),
      ...readdirSync('.github/workflows').map((name) => `.github/workflows/${name}`),
    ];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/BUDGET_THRESHOLD(:-|=)\d|budget-threshold: .*\d|BUDGET_THRESHOLD \|\|/);
      expect(text.match(/\b(800|1000)\b/g) ?? [], file).toEqual([]);
    }
  });

  it('accepts only basic or full monitoring', () => {
    expect(deploy(['dev', 'eu-west-1'], { MONITORING: 'cheap' }).stderr).toContain("MONITORING must be basic or full (got 'cheap')");
  });
});

describe('scripts/deploy-prod.sh', () => {
  it('takes only the region', () => {
    const { status, stderr } = deploy(['prod', 'eu-west-1'], {}, 'scripts/deploy-prod.sh');
    expect(status).toBe(1);
    expect(stderr).toContain('usage: GITHUB_REPOSITORY=OWNER/REPO scripts/deploy-prod.sh REGION');
  });

  it('deploys prod through deploy.sh with its own checks', () => {
    const path = `${stubAws('prod-signed-out', '  "sts get-caller-identity") exit 255 ;;')}:${process.env.PATH}`;
    expect(deploy(['eu-west-1'], { PATH: path }, 'scripts/deploy-prod.sh').stderr).toContain('no usable AWS credentials for region eu-west-1');
  });
});
