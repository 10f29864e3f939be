import { homedir } from 'node:os';
import { join } from 'node:path';
import { MotoUnavailableError, resolveMotoPython } from './motoPython.js';

/**
 * Before the integration and end-to-end tests: find or provision the Python that runs moto, and hand it to the test
 * workers as MOTO_PYTHON. When that is impossible the run stops here, with one message that says what to do.
 */
export default function setup(): void {
  const cacheDir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'aws-stripe-billing-tests');
  try {
    process.env.MOTO_PYTHON = resolveMotoPython({ env: process.env, cacheDir, log: (line) => console.log(line) });
  } catch (error) {
    if (!(error instanceof MotoUnavailableError)) throw error;
    // No stack trace: the message is the whole story.
    throw Object.assign(new Error(`${error.message} (npx vitest run test/unit runs the unit tests, which need no emulator.)`), { stack: '' });
  }
}
