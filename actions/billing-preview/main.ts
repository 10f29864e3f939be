import * as core from '@actions/core';
import { context, getOctokit } from '@actions/github';
import { githubPreviewAdapter, pullRequestFromContext } from '../../src/github/billingPreview.js';
import { failRun, writeJobSummary } from '../../src/github/runtime.js';
import { parsePreviewInputs } from '../../src/preview/inputs.js';
import { runBillingPreview } from '../../src/preview/run.js';

export async function run(): Promise<void> {
  try {
    const inputs = parsePreviewInputs((name) => core.getInput(name));
    const pullRequest = pullRequestFromContext(context);
    const github = githubPreviewAdapter(getOctokit(inputs.token), pullRequest, { workflow: inputs.costCheckWorkflow, branch: inputs.branch });
    const outcome = await runBillingPreview(github, { configPath: inputs.config, comment: !pullRequest.fromFork });
    for (const problem of outcome.problems) {
      core.error(problem.message, { title: 'Invalid billing config', file: inputs.config, ...(problem.line === undefined ? {} : { startLine: problem.line }) });
    }
    await writeJobSummary(outcome.summary);
    core.setOutput('comment', outcome.comment);
    if (outcome.comment === 'skipped') core.notice('A pull request from a fork gets no write token: the preview is in the job summary only.');
    if (outcome.comment === 'forbidden') core.warning('The token may not comment on the pull request: the preview is in the job summary only.');
    if (outcome.problems.length > 0) core.setFailed(`${inputs.config} has ${outcome.problems.length} problem(s); see the annotations.`);
  } catch (error) {
    failRun(error);
  }
}
