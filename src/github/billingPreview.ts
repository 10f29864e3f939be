import type { context as actionsContext, getOctokit } from '@actions/github';
import { ConfigError, ServiceError } from '../errors.js';
import type { CommentResult, FoundCostReport, PreviewGitHubPort } from '../preview/run.js';
import { CostReportError, fromCostReport, type CostReport } from '../report/costReport.js';
import { readZipEntry } from './zipEntry.js';

type Octokit = ReturnType<typeof getOctokit>;

/** The file the cost-check workflow uploads in its `cost-report-<run id>` artifact. */
const REPORT_FILE = 'cost-report.json';
/** Scheduled runs looked at, newest first, for one whose report artifact has not expired. */
const RUNS_SCANNED = 20;

export interface PullRequestRef {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
  readonly baseSha: string;
  /** A fork's pull request gets a read-only token: no comment, the job summary only. */
  readonly fromFork: boolean;
}

/** The pull request of a `pull_request` event, from the runner's event payload. */
export function pullRequestFromContext(context: typeof actionsContext): PullRequestRef {
  const pullRequest = context.payload.pull_request as
    { number: number; base: { sha: string; repo: { full_name: string } }; head: { repo: { full_name: string } | null } } | undefined;
  if (!pullRequest) {
    throw new ConfigError([`event ${context.eventName ?? '(none)'} has no pull request; expected the billing preview to run on pull_request`]);
  }
  const { owner, repo } = context.repo;
  return {
    owner,
    repo,
    number: pullRequest.number,
    baseSha: pullRequest.base.sha,
    fromFork: pullRequest.head.repo?.full_name !== pullRequest.base.repo.full_name,
  };
}

export function githubPreviewAdapter(octokit: Octokit, pullRequest: PullRequestRef, source: { workflow: string; branch: string }): PreviewGitHubPort {
  const repo = { owner: pullRequest.owner, repo: pullRequest.repo };
  return {
    async latestCostReport(): Promise<FoundCostReport | undefined> {
      const { data } = await call('list the cost check runs', () =>
        octokit.rest.actions.listWorkflowRuns({
          ...repo,
          workflow_id: source.workflow,
          branch: source.branch,
          event: 'schedule',
          status: 'completed',
          per_page: RUNS_SCANNED,
        }),
      );
      for (const run of data.workflow_runs) {
        const name = `cost-report-${run.id}`;
        const { data: list } = await call(`list the artifacts of run ${run.id}`, () =>
          octokit.rest.actions.listWorkflowRunArtifacts({ ...repo, run_id: run.id, name }),
        );
        const artifact = list.artifacts.find((candidate) => candidate.name === name && !candidate.expired);
        if (!artifact) continue;
        const download = await call(`download artifact ${name}`, () =>
          octokit.rest.actions.downloadArtifact({ ...repo, artifact_id: artifact.id, archive_format: 'zip' }),
        );
        const entry = readZipEntry(Buffer.from(download.data as ArrayBuffer), REPORT_FILE);
        if (!entry) throw new ConfigError([`artifact ${name} has no ${REPORT_FILE}; expected the cost-check workflow's report upload`]);
        return { snapshot: fromCostReport(parseReport(entry, name), `artifact ${name}`), runUrl: run.html_url };
      }
      return undefined;
    },

    async baseConfigText(path: string): Promise<string | undefined> {
      try {
        const { data } = await octokit.rest.repos.getContent({ ...repo, path, ref: pullRequest.baseSha });
        if (Array.isArray(data) || data.type !== 'file' || !('content' in data) || data.encoding !== 'base64') {
          throw new ConfigError([`${path} at the base commit is not a file the contents API returns inline (a file under 1 MB)`]);
        }
        return Buffer.from(data.content, 'base64').toString('utf8');
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw asServiceError(`read ${path} at the base commit`, error);
      }
    },

    async upsertComment(marker: string, body: string): Promise<CommentResult> {
      const comments = await call('list the pull request comments', () =>
        octokit.paginate(octokit.rest.issues.listComments, { ...repo, issue_number: pullRequest.number, per_page: 100 }),
      );
      // Only a comment that starts with the marker: a reply quoting it starts with "> ".
      const own = comments.find((comment) => comment.body?.startsWith(marker));
      try {
        if (own) {
          await octokit.rest.issues.updateComment({ ...repo, comment_id: own.id, body });
          return 'updated';
        }
        await octokit.rest.issues.createComment({ ...repo, issue_number: pullRequest.number, body });
        return 'created';
      } catch (error) {
        if (statusOf(error) === 403) return 'forbidden';
        throw asServiceError('write the preview comment', error);
      }
    },
  };
}

function parseReport(entry: Buffer, artifact: string): CostReport {
  try {
    return JSON.parse(entry.toString('utf8')) as CostReport;
  } catch (error) {
    throw new CostReportError(`${REPORT_FILE} of artifact ${artifact} is not JSON (${(error as Error).message}); expected the cost-check action's report`);
  }
}

async function call<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw asServiceError(what, error);
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

function asServiceError(what: string, error: unknown): Error {
  if (error instanceof ConfigError || error instanceof ServiceError) return error;
  const status = statusOf(error);
  const hint =
    status === 403 || status === 404
      ? 'give the job `contents: read` and `actions: read`, and check the cost-check-workflow and branch inputs'
      : 'GitHub may be unavailable; re-run the job';
  return new ServiceError(`GitHub could not ${what} (${status ?? 'no response'}: ${(error as Error).message})`, hint, { cause: error });
}
