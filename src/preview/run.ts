import { parseBillingConfig, type BillingConfig } from '../config/load.js';
import type { CostSnapshot } from '../costs/types.js';
import { ConfigError } from '../errors.js';
import { checkConfigFile, type ConfigProblem } from './configProblems.js';
import { previewBilling } from './diff.js';
import { COMMENT_ROW_LIMIT, PREVIEW_MARKER, renderInvalidConfig, renderPreview, type PreviewContext } from './render.js';

/** A cost report artifact of the scheduled cost check, and the run that uploaded it. */
export interface FoundCostReport {
  readonly snapshot: CostSnapshot;
  readonly runUrl: string;
}

/** Outcome of writing the sticky comment; `forbidden` when the token may not write to the pull request. */
export type CommentResult = 'created' | 'updated' | 'forbidden';

/** What the preview needs from GitHub: the REST adapter in src/github/billingPreview.ts. */
export interface PreviewGitHubPort {
  /** The newest unexpired cost report of the scheduled cost check on the base branch; undefined when there is none. */
  latestCostReport(): Promise<FoundCostReport | undefined>;
  /** The config file's text at the pull request's base; undefined when the base has no such file. */
  baseConfigText(path: string): Promise<string | undefined>;
  /** Updates the comment that starts with `marker`, or creates it when there is none. */
  upsertComment(marker: string, body: string): Promise<CommentResult>;
}

export interface PreviewRequest {
  readonly configPath: string;
  /** False for a fork's pull request (its token cannot write): the job summary is the only output. */
  readonly comment: boolean;
}

export interface PreviewOutcome {
  readonly summary: string;
  /** Problems of the proposed config; the run fails when there are any. */
  readonly problems: readonly ConfigProblem[];
  readonly comment: CommentResult | 'skipped';
}

export async function runBillingPreview(github: PreviewGitHubPort, request: PreviewRequest): Promise<PreviewOutcome> {
  const check = await checkConfigFile(request.configPath);
  if (!check.valid) {
    const body = renderInvalidConfig(check.problems, request.configPath);
    return { summary: body, problems: check.problems, comment: await comment(github, request, body) };
  }
  const [base, report] = await Promise.all([baseConfig(github, request.configPath), github.latestCostReport()]);
  const preview = previewBilling(base.config, check.config, report?.snapshot);
  const context: PreviewContext = {
    configPath: request.configPath,
    report: report && { ...report.snapshot, runUrl: report.runUrl },
    ...(base.note ? { baseNote: base.note } : {}),
  };
  const body = renderPreview(preview, context, COMMENT_ROW_LIMIT);
  return { summary: renderPreview(preview, context), problems: [], comment: await comment(github, request, body) };
}

async function comment(github: PreviewGitHubPort, request: PreviewRequest, body: string): Promise<PreviewOutcome['comment']> {
  return request.comment ? github.upsertComment(PREVIEW_MARKER, body) : 'skipped';
}

/** The base branch's config; none (every customer added) when the file is new there or cannot be used. */
async function baseConfig(github: PreviewGitHubPort, path: string): Promise<{ config: BillingConfig | undefined; note?: string }> {
  const text = await github.baseConfigText(path);
  if (text === undefined) return { config: undefined, note: `The base branch has no \`${path}\`: every customer shows as added.` };
  try {
    return { config: parseBillingConfig(text, `${path} on the base branch`) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { config: undefined, note: `The base branch's \`${path}\` is invalid (${error.problems[0]}): every customer shows as added.` };
  }
}
