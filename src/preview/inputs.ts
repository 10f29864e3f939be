import { InputParser, type InputReader } from '../config/inputs.js';

export interface PreviewInputs {
  readonly config: string;
  readonly token: string;
  /** The cost check's workflow file (or numeric id) whose scheduled runs upload the cost report. */
  readonly costCheckWorkflow: string;
  readonly branch: string;
}

const WORKFLOW = /^([A-Za-z0-9_.-]+\.ya?ml|\d+)$/;
const BRANCH = /^[^\s~^:?*[\\]+$/;

/** The billing-preview action's inputs (see actions/billing-preview/action.yml), all problems at once. */
export function parsePreviewInputs(read: InputReader): PreviewInputs {
  const input = new InputParser(read);
  const token = input.text('github-token');
  if (!token) input.fail('github-token', '', 'a token that can read Actions artifacts, such as ${{ github.token }}');
  const costCheckWorkflow = input.matching('cost-check-workflow', WORKFLOW, 'a workflow file name such as cost-check.yml, or its numeric id', 'cost-check.yml');
  const branch = input.matching('branch', BRANCH, 'a branch name such as main', 'main');
  input.done();
  return { config: input.text('config', 'billing.config.yaml'), token, costCheckWorkflow, branch };
}
