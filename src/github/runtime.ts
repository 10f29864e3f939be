import { constants } from 'node:fs';
import { access, appendFile } from 'node:fs/promises';
import { EOL } from 'node:os';
import { ConfigError, describeNetworkFailure, ServiceError } from '../errors.js';
import { errorAnnotation } from './commands.js';

/**
 * Writes the job summary. Outside a runner (no GITHUB_STEP_SUMMARY) the markdown goes to stdout instead, so an
 * action run by hand still shows its report.
 */
export async function writeJobSummary(markdown: string): Promise<void> {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (file) {
    // As @actions/core's `summary.addRaw(markdown, true).write()` does, without loading it.
    await access(file, constants.R_OK | constants.W_OK).catch(() => {
      throw new Error(`Unable to access summary file: '${file}'. Check if the file has correct read/write permissions.`);
    });
    await appendFile(file, `${markdown}${EOL}`, { encoding: 'utf8' });
  } else {
    process.stdout.write(`${markdown}\n`);
  }
}

/** One `::error::` annotation with what went wrong and the likely fix, and a non-zero exit. Needs no module loaded. */
export function failRun(error: unknown): void {
  if (error instanceof ConfigError) {
    errorAnnotation(error.message, 'Invalid input or billing config (nothing was changed)');
  } else if (error instanceof ServiceError) {
    errorAnnotation(`${error.message}. Likely fix: ${error.hint}`, 'AWS or Stripe call failed');
  } else if (describeNetworkFailure(error)) {
    errorAnnotation(describeNetworkFailure(error)!, 'Endpoint unreachable');
  } else {
    errorAnnotation(error instanceof Error ? (error.stack ?? error.message) : String(error), 'Unexpected failure');
  }
  process.exitCode = 1;
}
