import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseBillingConfig } from '../../src/config/load.js';
import type { CostSnapshot } from '../../src/costs/types.js';
import { toCostReport } from '../../src/report/costReport.js';
import { baseConfigText, invalidConfigLines, invalidConfigText, proposedConfigText } from '../support/billingPreview.js';
import { startGitHubServer, type FakeComment, type FakeRepository } from '../support/githubServer.js';
import { runAction } from '../support/runAction.js';
import { demoSnapshot } from '../support/snapshots.js';

/**
 * The built actions/billing-preview/dist/index.js, run as the runner runs it, against a local server that plays the
 * GitHub REST API: the cost check's runs and artifacts (a real zip, downloaded through a redirect), the config at the
 * base commit and the pull request's comments.
 */
const OWNER = 'acme-co';
const REPO = 'billing';
const PULL = 7;
const BASE_SHA = 'b'.repeat(40);
const WRITE_TOKEN = 'ghs_writeToken';
const FORK_TOKEN = 'ghs_readOnlyForkToken';

const dir = mkdtempSync(join(tmpdir(), 'billing-preview-e2e-'));
let repository: FakeRepository;
let github: Awaited<ReturnType<typeof startGitHubServer>>;

/** The cost-check workflow's artifact: cost-report.json zipped by the zip CLI. */
function reportZip(name: string, snapshot: CostSnapshot): Buffer {
  const folder = mkdtempSync(join(dir, `${name}-`));
  writeFileSync(join(folder, 'cost-report.json'), JSON.stringify(toCostReport(snapshot, parseBillingConfig(baseConfigText))));
  execFileSync('zip', ['-q', '-j', join(folder, 'artifact.zip'), join(folder, 'cost-report.json')]);
  return readFileSync(join(folder, 'artifact.zip'));
}

beforeAll(async () => {
  const snapshot = await demoSnapshot();
  // A dispatched run's report (another period's figures) must never be the one previewed.
  const dispatched = { ...snapshot, customers: snapshot.customers.map((costs) => ({ ...costs, cost: costs.cost * 3, forecast: costs.forecast * 3 })) };
  repository = {
    owner: OWNER,
    repo: REPO,
    runs: [
      { id: 101, event: 'schedule', branch: 'main', workflow: 'cost-check.yml' },
      { id: 102, event: 'schedule', branch: 'main', workflow: 'cost-check.yml' },
      { id: 103, event: 'workflow_dispatch', branch: 'main', workflow: 'cost-check.yml' },
      { id: 104, event: 'schedule', branch: 'feature', workflow: 'cost-check.yml' },
      { id: 105, event: 'schedule', branch: 'main', workflow: 'cost-check.yml' },
    ],
    artifacts: [
      { id: 5101, runId: 101, name: 'cost-report-101', expired: false, zip: reportZip('r101', dispatched) },
      { id: 5102, runId: 102, name: 'cost-report-102', expired: false, zip: reportZip('r102', snapshot) },
      { id: 5103, runId: 103, name: 'cost-report-103', expired: false, zip: reportZip('r103', dispatched) },
      { id: 5104, runId: 104, name: 'cost-report-104', expired: false, zip: reportZip('r104', dispatched) },
      { id: 5105, runId: 105, name: 'cost-report-105', expired: true, zip: reportZip('r105', dispatched) },
    ],
    files: new Map([[`${BASE_SHA}:billing.config.yaml`, baseConfigText]]),
    comments: new Map(),
    readOnlyTokens: new Set([FORK_TOKEN]),
  };
  github = await startGitHubServer(repository);
});

afterAll(async () => {
  await github.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  // 120 earlier comments: the preview's own lands on the second page of the list, and a reply quotes its marker.
  const earlier: FakeComment[] = Array.from({ length: 120 }, (_, i) => ({
    id: i + 1,
    body: `review comment ${i + 1}`,
    user: { login: 'reviewer', type: 'User' },
  }));
  earlier[60] = { ...earlier[60]!, body: '> <!-- billing-preview -->\n> quoted from the bot\n\nWhy does Acme change?' };
  repository.comments.set(PULL, earlier);
  github.requests.length = 0;
});

async function preview(configText: string, { fork = false, token = fork ? FORK_TOKEN : WRITE_TOKEN }: { fork?: boolean; token?: string } = {}) {
  const configPath = 'billing.config.yaml';
  const headRepo = fork ? 'someone/billing' : `${OWNER}/${REPO}`;
  const eventPath = join(dir, `event-${fork ? 'fork' : 'same'}.json`);
  writeFileSync(
    eventPath,
    JSON.stringify({
      action: 'synchronize',
      number: PULL,
      pull_request: {
        number: PULL,
        base: { sha: BASE_SHA, ref: 'main', repo: { full_name: `${OWNER}/${REPO}` } },
        head: { sha: 'c'.repeat(40), repo: { full_name: headRepo } },
      },
    }),
  );
  const result = await runAction(
    'billing-preview',
    { config: configPath, 'github-token': token, 'cost-check-workflow': 'cost-check.yml', branch: 'main' },
    { GITHUB_API_URL: github.url, GITHUB_REPOSITORY: `${OWNER}/${REPO}`, GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: eventPath },
    { [configPath]: configText },
  );
  return { ...result, configPath };
}

const previewComments = () => (repository.comments.get(PULL) ?? []).filter((comment) => comment.body.startsWith('<!-- billing-preview -->'));
const writes = () => github.requests.filter((request) => request.method !== 'GET');

describe('the billing preview action against a GitHub API', () => {
  it('creates one comment on the first run, then updates that same comment on the next', async () => {
    const first = await preview(proposedConfigText());
    expect(first.stderr).toBe('');
    expect(first.status, first.stdout).toBe(0);
    expect(first.outputs.comment).toBe('created');
    expect(previewComments()).toHaveLength(1);
    const [created] = previewComments();
    expect(created!.body).toContain('| Acme Corp (acme) | changed | $800.00 → **$1,000.00** | 10 % | $574.10 | $446.91 → **$246.91** |');
    expect(created!.body).toContain('| Hooli (hooli) | removed |');
    expect(created!.body).toContain('| Wayne Enterprises (wayne) | added |');
    // The scheduled run on main with an unexpired artifact: not the dispatched run, the feature branch or the expired one.
    expect(created!.body).toContain('(https://github.com/acme-co/billing/actions/runs/102)');
    expect(first.summary).toContain('| Acme Corp (acme) | changed | $800.00 → **$1,000.00**');
    expect(writes().map((request) => `${request.method} ${request.path}`)).toEqual([`POST /repos/${OWNER}/${REPO}/issues/${PULL}/comments`]);
    expect(github.requests.every((request) => request.authorization === `token ${WRITE_TOKEN}`)).toBe(true);
    const runsQuery = github.requests.find((request) => request.path.endsWith('/actions/workflows/cost-check.yml/runs'))!.query;
    expect([runsQuery.get('branch'), runsQuery.get('event'), runsQuery.get('status')]).toEqual(['main', 'schedule', 'completed']);
    expect(github.requests.some((request) => request.path === '/blobs/artifact-5102.zip')).toBe(true);
    expect(github.requests.some((request) => /artifact-510[1345]/.test(request.path))).toBe(false);

    github.requests.length = 0;
    const second = await preview(proposedConfigText({ acmeAllowance: 1200 }));
    expect(second.status, second.stdout).toBe(0);
    expect(second.outputs.comment).toBe('updated');
    expect(previewComments()).toHaveLength(1);
    expect(previewComments()[0]!.id).toBe(created!.id);
    expect(previewComments()[0]!.body).toContain('$800.00 → **$1,200.00**');
    expect(previewComments()[0]!.body).toContain('$446.91 → **$46.91**');
    expect(writes().map((request) => `${request.method} ${request.path}`)).toEqual([`PATCH /repos/${OWNER}/${REPO}/issues/comments/${created!.id}`]);
    expect(repository.comments.get(PULL)).toHaveLength(121);
  });

  it('gives a fork’s pull request the job summary only, without failing and without writing', async () => {
    const result = await preview(proposedConfigText(), { fork: true });
    expect(result.status, result.stdout).toBe(0);
    expect(result.outputs.comment).toBe('skipped');
    expect(result.summary).toContain('| Acme Corp (acme) | changed | $800.00 → **$1,000.00**');
    expect(result.stdout).toContain('::notice::A pull request from a fork gets no write token');
    expect(writes()).toEqual([]);
    expect(github.requests.some((request) => request.path.endsWith(`/issues/${PULL}/comments`))).toBe(false);
    expect(previewComments()).toHaveLength(0);
  });

  it('keeps the summary and warns when the token may not comment on a pull request of the repository itself', async () => {
    const result = await preview(proposedConfigText(), { token: FORK_TOKEN });
    expect(result.status, result.stdout).toBe(0);
    expect(result.outputs.comment).toBe('forbidden');
    expect(result.stdout).toContain('::warning::The token may not comment on the pull request');
    expect(result.summary).toContain('| Acme Corp (acme) | changed | $800.00 → **$1,000.00**');
    expect(writes().map((request) => request.method)).toEqual(['POST']);
    expect(previewComments()).toHaveLength(0);
  });

  it('annotates each problem of an invalid config on its line, says so in the comment and fails', async () => {
    const result = await preview(invalidConfigText);
    expect(result.status).toBe(1);
    const annotation = (line: number) => new RegExp(`^::error title=Invalid billing config,file=billing\\.config\\.yaml,line=${line}::customers\\[`, 'm');
    for (const line of Object.values(invalidConfigLines)) expect(result.stdout).toMatch(annotation(line));
    expect(result.outputs.comment).toBe('created');
    expect(previewComments()[0]!.body).toContain(`- line ${invalidConfigLines.allowance}: customers\\[1\\].allowance is -5`);
    expect(result.summary).toContain('The config is invalid (4 problems)');
    // Nothing was looked up for an invalid config: no runs, no artifacts.
    expect(github.requests.some((request) => request.path.includes('/actions/'))).toBe(false);
  });
});
