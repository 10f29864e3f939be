#!/usr/bin/env node
// Runs every bench/*.bench.ts: bundled with esbuild (dependencies stay external) and run in a fresh Node process
// with --expose-gc, so each benchmark measures its own memory. Each prints a markdown section.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const filter = process.argv[2] ?? '';
const out = '.bench-build';
rmSync(out, { recursive: true, force: true });
mkdirSync(out);
const benches = readdirSync('bench')
  .filter((file) => file.endsWith('.bench.ts') && file.includes(filter))
  .sort();
for (const file of benches) {
  const outfile = join(out, file.replace(/\.ts$/, '.mjs'));
  execFileSync(
    'npx',
    ['esbuild', join('bench', file), '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${outfile}`, '--log-level=warning'],
    { stdio: 'inherit' },
  );
  execFileSync(process.execPath, ['--expose-gc', '--no-warnings', outfile], { stdio: 'inherit' });
}
rmSync(out, { recursive: true, force: true });
