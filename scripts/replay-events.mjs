#!/usr/bin/env node
// Runs scripts/replay-events.ts: bundled with esbuild (dependencies included, CommonJS as for the Lambda) into a
// temporary file first, because Node 20 does not run TypeScript. Arguments pass through: npm run replay-events -- --since 3d
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'replay-events-'));
const outfile = join(dir, 'replay-events.cjs');
try {
  execFileSync(
    'npx',
    ['esbuild', 'scripts/replay-events.ts', '--bundle', '--platform=node', '--target=node20', '--format=cjs', `--outfile=${outfile}`, '--log-level=warning'],
    { stdio: 'inherit' },
  );
  execFileSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit' });
} catch (error) {
  process.exitCode = typeof error.status === 'number' ? error.status : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
