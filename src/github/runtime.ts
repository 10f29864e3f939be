import * as core from '@actions/core';
import { ConfigError, describeNetworkFailure, ServiceError } from '../errors.js';

/**
 * Writes the job summary. Outside a runner (no GITHUB_STEP_SUMMARY) the markdown goes to stdout instead, so an
 * action run by hand still shows its report.
 */
export async function writeJobSummary(markdown: string): Promise<void> {
  if (process.env.GITHUB_STEP_SUMMARY) {
    await core.summary.addRaw(markdown, true).write();
  } else {
    process.stdout.write(`${markdown}\n`);
  }
}

/** One `::error::` annotation with what went wrong and the likely fix, and a non-zero exit. */
export function failRun(error: unknown): void {
  if (error instanceof ConfigError) {
    core.error(error.message, { title: 'Invalid input or billing config (nothing was changed)' });
  } else if (error instanceof ServiceError) {
    core.error(`${error.message}. Likely fix: ${error.hint}`, { title: 'AWS or Stripe call failed' });
  } else if (describeNetworkFailure(error)) {
    core.error(describeNetworkFailure(error)!, { title: 'Endpoint unreachable' });
  } else {
    core.error(error instanceof Error ? (error.stack ?? error.message) : String(error), { title: 'Unexpected failure' });
  }
  process.exitCode = 1;
}
