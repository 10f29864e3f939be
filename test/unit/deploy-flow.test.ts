import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The whole happy path of scripts/deploy-prod.sh with the AWS CLI and curl replaced by stubs on PATH that answer like
 * a bootstrapped account whose prod stack already exists. cfn-lint is a logging stub (the real one lints the template
 * in `npm run lint`); node (the Lambda build), zip and sha256sum run; nothing reaches AWS or the network.
 */
const workdir = mkdtempSync(join(tmpdir(), 'deploy-flow-'));
afterAll(() => rmSync(workdir, { recursive: true, force: true }));

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const STACK = 'stripe-billing-prod';
const BUCKET = `stripe-billing-artifacts-${ACCOUNT}`;
const CHANGE_SET = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:changeSet/awscli-cloudformation-package-deploy-1700000000/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b`;
const WEBHOOK_URL = `https://a1b2c3d4e5.execute-api.${REGION}.amazonaws.com/webhook`;
const OBJECT_VERSION = '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY';
const CHANGES = [
  ['Modify', 'WebhookFunction', 'AWS::Lambda::Function', 'False'],
  ['Add', 'SignatureFailuresAlarm', 'AWS::CloudWatch::Alarm', 'None'],
];
const OUTPUTS = [
  ['WebhookUrl', WEBHOOK_URL],
  ['BillingTableName', 'stripe-billing-prod-billing'],
  ['BillingRoleArn', `arn:aws:iam::${ACCOUNT}:role/stripe-billing-prod-BillingRole-1A2B`],
];
const TAGS = [
  'ClientOrganization=Example Organization',
  'BillingProject=aws-stripe-billing',
  'OrganizationalUnit=Platform',
  'BillingAllocationID=BA-0000',
  'Owner=platform-team@example.com',
  'CostCenter=CC-0000',
  'Project=aws-stripe-billing',
];

const tsv = (rows: string[][]) => rows.map((row) => row.join('\\t')).join('\\n');

// Every stub logs one line per call with its arguments joined by tabs, so an argument holding a space (the tag value
// "Example Organization") stays one argument when the test reads the log back.
const LOG_CALL = `(IFS=$'\\t'; printf '%s\\n' "$*") >>"$STUB_LOG_DIR/$(basename "$0").log"`;

const AWS_STUB = `#!/usr/bin/env bash
set -euo pipefail
${LOG_CALL}
args=("$@")
# option NAME: the value that follows --NAME in the arguments.
option() {
  local i
  for ((i = 0; i < \${#args[@]} - 1; i++)); do
    [[ "\${args[i]}" == "--$1" ]] && { printf '%s' "\${args[i + 1]}"; return; }
  done
}
case "$1 $2" in
  "sts get-caller-identity") echo ${ACCOUNT} ;;
  "cloudformation describe-stacks")
    case "$(option stack-name) $(option query)" in
      "stripe-billing-bootstrap-prod "*ArtifactsBucketName*) echo ${BUCKET} ;;
      "stripe-billing-bootstrap-prod "*ExecutionRoleArn*) echo arn:aws:iam::${ACCOUNT}:role/stripe-billing-cfn-exec-prod ;;
      "stripe-billing-bootstrap-prod "*PermissionsBoundaryArn*) echo arn:aws:iam::${ACCOUNT}:policy/stripe-billing-boundary-prod ;;
      "${STACK} Stacks[0].StackStatus") echo UPDATE_COMPLETE ;;
      "${STACK} Stacks[0].Outputs[].[OutputKey,OutputValue]") printf '${tsv(OUTPUTS)}\\n' ;;
      "${STACK} "*WebhookUrl*) echo ${WEBHOOK_URL} ;;
      *) echo "An error occurred (ValidationError): Stack with id $(option stack-name) does not exist" >&2; exit 254 ;;
    esac ;;
  "ssm describe-parameters") echo SecureString ;;
  "s3 cp")
    # Keeps what was uploaded: s3 cp ... SOURCE s3://BUCKET/KEY lands in $STUB_S3_DIR/BUCKET/KEY.
    target="$STUB_S3_DIR/\${args[-1]#s3://}"
    mkdir -p "$(dirname "$target")" && cp "\${args[-2]}" "$target" ;;
  "s3api put-object")
    # A versioned bucket: keeps the body in $STUB_S3_DIR/BUCKET/KEY and answers the version id (--query VersionId).
    target="$STUB_S3_DIR/$(option bucket)/$(option key)"
    mkdir -p "$(dirname "$target")" && cp "$(option body)" "$target"
    echo "\${STUB_OBJECT_VERSION-${OBJECT_VERSION}}" ;;
  "cloudformation validate-template") echo '{"Parameters": []}' ;;
  "cloudformation deploy")
    # What the real CLI prints for --no-execute-changeset.
    printf '\\nWaiting for changeset to be created..\\nChangeset created successfully. Run the following command to review changes:\\naws cloudformation describe-change-set --change-set-name %s\\n' '${CHANGE_SET}' ;;
  "cloudformation describe-change-set")
    case "$(option query)" in
      "[StackName,Status,ExecutionStatus]") printf '%s\\t%s\\t%s\\n' ${STACK} CREATE_COMPLETE "\${STUB_EXECUTION_STATUS:-AVAILABLE}" ;;
      *) printf '${tsv(CHANGES)}\\n' ;;
    esac ;;
  "cloudformation execute-change-set" | "cloudformation wait") ;;
  *) echo "unexpected aws $*" >&2; exit 2 ;;
esac
`;

// With -o /dev/null -w '%{http_code}' the real curl prints only the status code.
const CURL_STUB = `#!/usr/bin/env bash
${LOG_CALL}
printf '%s' "$STUB_SMOKE_STATUS"
`;

// The smoke test waits 5 s between attempts; the failure case would otherwise take half a minute.
const SLEEP_STUB = `#!/usr/bin/env bash
${LOG_CALL}
`;

const bin = join(workdir, 'bin');
mkdirSync(bin);
const CFN_LINT_STUB = `#!/usr/bin/env bash
${LOG_CALL}
`;

for (const [name, body] of Object.entries({ aws: AWS_STUB, curl: CURL_STUB, sleep: SLEEP_STUB, 'cfn-lint': CFN_LINT_STUB })) {
  writeFileSync(join(bin, name), body);
  chmodSync(join(bin, name), 0o755);
}

interface DeployRun {
  status: number | null;
  stderr: string;
  /** One entry per call: its arguments. */
  awsCalls: string[][];
  curlCalls: string[][];
  cfnLintCalls: string[][];
  jobSummary: string;
  githubOutput: string;
  s3Dir: string;
  /** mktemp folders the script left in its TMPDIR. */
  temporaryFolders: string[];
}

const readIfExists = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
const calls = (file: string) =>
  readIfExists(file)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));

/** Runs scripts/deploy-prod.sh REGION in a fresh run folder, with `smokeStatus` as the webhook's answer. */
function deployProd(name: string, smokeStatus: string, settings: Record<string, string> = {}): DeployRun {
  const run = join(workdir, name);
  const s3Dir = join(run, 's3');
  const jobSummary = join(run, 'step-summary.md');
  const githubOutput = join(run, 'github-output');
  mkdirSync(s3Dir, { recursive: true });
  const result = spawnSync('bash', ['scripts/deploy-prod.sh', REGION], {
    encoding: 'utf8',
    // stdin is a pipe, not a terminal, and holds "no": had the script prompted, it would have read it and deleted
    // the change set instead of executing it.
    input: 'no\n',
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: process.env.HOME,
      TMPDIR: run, // the script's mktemp folder for the zip ends up under workdir
      GITHUB_REPOSITORY: 'acme/aws-stripe-billing',
      GITHUB_STEP_SUMMARY: jobSummary,
      GITHUB_OUTPUT: githubOutput,
      STUB_LOG_DIR: run,
      STUB_S3_DIR: s3Dir,
      STUB_SMOKE_STATUS: smokeStatus,
      ...settings,
    },
  });
  return {
    status: result.status,
    stderr: result.stderr,
    awsCalls: calls(join(run, 'aws.log')),
    curlCalls: calls(join(run, 'curl.log')),
    cfnLintCalls: calls(join(run, 'cfn-lint.log')),
    jobSummary: readIfExists(jobSummary),
    githubOutput: readIfExists(githubOutput),
    s3Dir,
    temporaryFolders: readdirSync(run).filter((name) => name.startsWith('tmp.')),
  };
}

/** The calls of one `aws SERVICE COMMAND`. */
const awsCallsOf = (run: DeployRun, service: string, command: string) => run.awsCalls.filter((args) => args[0] === service && args[1] === command);
const indexOfCall = (run: DeployRun, command: string) => run.awsCalls.findIndex((args) => args[0] === 'cloudformation' && args[1] === command);

/** The values that follow `option` in the arguments, up to the next --option. */
function optionValues(args: string[], option: string): string[] {
  const start = args.indexOf(option);
  if (start < 0) return [];
  const end = args.findIndex((arg, i) => i > start && arg.startsWith('--'));
  return args.slice(start + 1, end < 0 ? undefined : end);
}

const optionValue = (args: string[], option: string) => optionValues(args, option)[0];

/** The first 16 hex digits of the SHA-256 of the built bundle's files, concatenated in name order as deploy.sh does. */
function bundleHash(): string {
  const dist = 'lambda/billing-handler/dist';
  const hash = createHash('sha256');
  for (const file of readdirSync(dist).sort()) hash.update(readFileSync(join(dist, file)));
  return hash.digest('hex').slice(0, 16);
}

describe('scripts/deploy-prod.sh happy path', () => {
  let run: DeployRun;
  beforeAll(() => {
    run = deployProd('happy', '400');
  });

  it('exits 0 after the smoke test', () => {
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain(`done: ${STACK} is deployed and rejects unsigned webhooks`);
  });

  it('lints the template before creating the change set', () => {
    expect(run.cfnLintCalls).toEqual([[expect.stringMatching(/\/infrastructure\.yaml$/)]]);
  });

  it('removes its temporary zip folder', () => {
    expect(run.temporaryFolders).toEqual([]);
  });

  it('creates the change set on stripe-billing-prod with the prod parameters and the seven tags', () => {
    const deploys = awsCallsOf(run, 'cloudformation', 'deploy');
    expect(deploys).toHaveLength(1);
    const deploy = deploys[0]!;
    expect(optionValue(deploy, '--stack-name')).toBe(STACK);
    expect(deploy).toContain('--no-execute-changeset');
    const overrides = optionValues(deploy, '--parameter-overrides');
    expect(overrides).toEqual(
      expect.arrayContaining(['Environment=prod', 'BudgetThreshold=800', 'DeletionProtection=true', 'Monitoring=basic', 'AccountBudget=auto', ...TAGS]),
    );
    expect(overrides).toEqual(
      expect.arrayContaining(['WebhookSecretParameter=/stripe/prod/webhook-secret', 'StripeSecretKeyParameter=/stripe/prod/secret-key']),
    );
    expect(optionValues(deploy, '--tags')).toEqual(TAGS);
  });

  it('overrides only parameters that infrastructure.yaml declares', () => {
    // `aws cloudformation deploy` silently drops overrides the template does not declare, so a misspelt key would
    // deploy the parameter's default without any error.
    const template = readFileSync('infrastructure.yaml', 'utf8');
    const declared = template.slice(template.indexOf('\nParameters:'), template.indexOf('\nConditions:'));
    const overrides = optionValues(awsCallsOf(run, 'cloudformation', 'deploy')[0]!, '--parameter-overrides');
    for (const key of overrides.map((pair) => pair.split('=')[0]!)) expect(declared, key).toMatch(new RegExp(`^  ${key}:`, 'm'));
  });

  it('shows the change set before executing it, then waits for the update', () => {
    const described = indexOfCall(run, 'describe-change-set');
    const executed = indexOfCall(run, 'execute-change-set');
    expect(described).toBeGreaterThanOrEqual(0);
    expect(executed).toBeGreaterThan(described);
    expect(optionValue(run.awsCalls[described]!, '--change-set-name')).toBe(CHANGE_SET);
    expect(optionValue(run.awsCalls[executed]!, '--change-set-name')).toBe(CHANGE_SET);
    const waits = awsCallsOf(run, 'cloudformation', 'wait');
    expect(waits.map((args) => args[2])).toEqual(['stack-update-complete']);
    expect(indexOfCall(run, 'wait')).toBeGreaterThan(executed);
  });

  it('does not prompt without a terminal', () => {
    expect(run.stderr).not.toContain("Type 'yes'");
    expect(awsCallsOf(run, 'cloudformation', 'delete-change-set')).toEqual([]);
  });

  it('writes the change set and the stack outputs to the job summary', () => {
    expect(run.jobSummary).toContain(`## Deploy ${STACK} (${REGION})`);
    expect(run.jobSummary).toContain('| Modify | WebhookFunction | AWS::Lambda::Function | False |');
    expect(run.jobSummary).toContain('| Add | SignatureFailuresAlarm | AWS::CloudWatch::Alarm | None |');
    for (const [key, value] of OUTPUTS) expect(run.jobSummary).toContain(`| ${key} | \`${value}\` |`);
    expect(run.jobSummary).toContain('Smoke test passed');
    expect(run.githubOutput).toBe(`webhook-url=${WEBHOOK_URL}\n`);
  });

  it('smoke-tests the WebhookUrl output with an unsigned POST', () => {
    expect(run.curlCalls).toHaveLength(1);
    const curl = run.curlCalls[0]!;
    expect(curl.at(-1)).toBe(WEBHOOK_URL);
    expect(optionValue(curl, '-X')).toBe('POST');
    expect(curl.join(' ')).not.toMatch(/stripe-signature/i);
  });

  it('uploads the Lambda zip under a key derived from the bundle content and pins the change set to its S3 version', () => {
    const key = `lambda/billing-handler-${bundleHash()}.zip`;
    const zip = join(run.s3Dir, BUCKET, key);
    expect(existsSync(zip), `nothing uploaded to s3://${BUCKET}/${key}`).toBe(true);
    const listing = spawnSync('unzip', ['-Z1', zip], { encoding: 'utf8' });
    expect(listing.stdout.split('\n')).toContain('handler.cjs');
    const overrides = optionValues(awsCallsOf(run, 'cloudformation', 'deploy')[0]!, '--parameter-overrides');
    expect(overrides).toEqual(expect.arrayContaining([`ArtifactBucket=${BUCKET}`, `ArtifactKey=${key}`, `ArtifactObjectVersion=${OBJECT_VERSION}`]));
  });

  it('reads the budget threshold from scripts/account-budget.env, not from the environment', () => {
    const exported = deployProd('budget-exported', '400', { BUDGET_THRESHOLD: '5', CHANGE_SET_ONLY: 'true' });
    expect(exported.status, exported.stderr).toBe(0);
    expect(optionValues(awsCallsOf(exported, 'cloudformation', 'deploy')[0]!, '--parameter-overrides')).toContain('BudgetThreshold=800');
  });
});

describe("scripts/deploy-prod.sh with the zip of deploy.yml's build job", () => {
  const zipFile = join(workdir, 'prebuilt', 'billing-handler.zip');
  mkdirSync(join(workdir, 'prebuilt'), { recursive: true });
  writeFileSync(zipFile, Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]));
  const digest = createHash('sha256').update(readFileSync(zipFile)).digest('hex');

  it('uploads exactly that zip under its digest, without building, and pins the change set to the uploaded version', () => {
    const run = deployProd('prebuilt', '400', { LAMBDA_ZIP: zipFile, LAMBDA_ZIP_SHA256: digest, SKIP_CFN_LINT: 'true', PATH: `${bin}:/usr/bin:/bin` });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('building the Lambda');
    const key = `lambda/billing-handler-${digest.slice(0, 16)}.zip`;
    expect(readFileSync(join(run.s3Dir, BUCKET, key))).toEqual(readFileSync(zipFile));
    const overrides = optionValues(awsCallsOf(run, 'cloudformation', 'deploy')[0]!, '--parameter-overrides');
    expect(overrides).toEqual(expect.arrayContaining([`ArtifactKey=${key}`, `ArtifactObjectVersion=${OBJECT_VERSION}`]));
  });

  it('refuses a zip whose digest is not the one it was built with, before any upload', () => {
    const run = deployProd('prebuilt-tampered', '400', { LAMBDA_ZIP: zipFile, LAMBDA_ZIP_SHA256: '0'.repeat(64), SKIP_CFN_LINT: 'true' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `LAMBDA_ZIP ${zipFile} has SHA-256 ${digest}, not the LAMBDA_ZIP_SHA256 ${'0'.repeat(64)} it was built with: not deploying it`,
    );
    expect(awsCallsOf(run, 's3api', 'put-object')).toEqual([]);
    expect(awsCallsOf(run, 'cloudformation', 'deploy')).toEqual([]);
  });

  it('refuses a bucket without versioning, since the change set could not pin the code', () => {
    const run = deployProd('unversioned', '400', { LAMBDA_ZIP: zipFile, LAMBDA_ZIP_SHA256: digest, SKIP_CFN_LINT: 'true', STUB_OBJECT_VERSION: 'None' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`s3://${BUCKET} has no versioning (the upload returned no version id)`);
    expect(awsCallsOf(run, 'cloudformation', 'deploy')).toEqual([]);
  });
});

describe('scripts/deploy-prod.sh smoke test', () => {
  it('fails with a clear message when an unsigned POST is accepted', () => {
    const run = deployProd('webhook-accepts-unsigned', '200');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`error: smoke test failed: an unsigned POST to ${WEBHOOK_URL} answered 200, expected 400`);
    expect(run.jobSummary).toContain('Smoke test **failed**: an unsigned POST answered 200, expected 400.');
    expect(run.curlCalls.length).toBeGreaterThan(1); // retried: a new API can take a moment to answer
  });
});

describe('scripts/deploy-prod.sh as the two prod jobs of deploy.yml: plan, then execute that change set', () => {
  it('creates and shows the change set, hands its ARN on as a step output, and changes nothing', () => {
    const run = deployProd('plan', '400', { CHANGE_SET_ONLY: 'true' });
    expect(run.status, run.stderr).toBe(0);
    expect(awsCallsOf(run, 'cloudformation', 'deploy')).toHaveLength(1);
    expect(indexOfCall(run, 'describe-change-set')).toBeGreaterThan(-1);
    expect(indexOfCall(run, 'execute-change-set')).toBe(-1);
    expect(indexOfCall(run, 'wait')).toBe(-1);
    expect(run.curlCalls).toEqual([]);
    expect(run.githubOutput).toBe(`change-set=${CHANGE_SET}\n`);
    expect(run.jobSummary).toContain(`## Plan ${STACK} (${REGION})`);
    for (const [action, resource] of CHANGES) expect(run.jobSummary).toContain(`| ${action} | ${resource} |`);
    expect(run.jobSummary).toContain('Not executed yet');
  });

  it('executes exactly the planned change set, without building or creating another, then smoke-tests', () => {
    const run = deployProd('execute', '400', { EXECUTE_CHANGE_SET: CHANGE_SET });
    expect(run.status, run.stderr).toBe(0);
    expect(awsCallsOf(run, 'cloudformation', 'deploy')).toEqual([]);
    expect(awsCallsOf(run, 's3', 'cp')).toEqual([]);
    expect(awsCallsOf(run, 'cloudformation', 'execute-change-set')).toEqual([expect.arrayContaining([CHANGE_SET])]);
    expect(run.jobSummary).toContain(`| ${CHANGES[0]![0]} | ${CHANGES[0]![1]} |`);
    expect(run.curlCalls).toHaveLength(1);
  });

  it('only smoke-tests when the plan had nothing to change', () => {
    const run = deployProd('execute-nothing', '400', { EXECUTE_CHANGE_SET: 'none' });
    expect(run.status, run.stderr).toBe(0);
    expect(indexOfCall(run, 'execute-change-set')).toBe(-1);
    expect(run.jobSummary).toContain('No changes: the stack is up to date.');
    expect(run.curlCalls).toHaveLength(1);
  });

  it('refuses a change set that is no longer ready (another deploy ran in between) and asks for a new plan', () => {
    const run = deployProd('execute-stale', '400', { EXECUTE_CHANGE_SET: CHANGE_SET, STUB_EXECUTION_STATUS: 'OBSOLETE' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `change set ${CHANGE_SET} is not ready to execute on ${STACK} (stack, status, execution status: ${STACK}, CREATE_COMPLETE, OBSOLETE): run the plan again`,
    );
    expect(indexOfCall(run, 'execute-change-set')).toBe(-1);
  });

  it('names the accepted form of EXECUTE_CHANGE_SET', () => {
    const run = deployProd('execute-bad', '400', { EXECUTE_CHANGE_SET: 'my-change-set' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      "EXECUTE_CHANGE_SET must be a change set ARN (arn:aws:cloudformation:REGION:ACCOUNT:changeSet/NAME/ID) or none (got 'my-change-set')",
    );
  });
});
