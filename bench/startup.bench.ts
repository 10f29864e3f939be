// Start-up: what an action costs to reject a bad input, as a whole process (kernel CPU figures, median of 7),
// against a bare `node` running an empty module in the same run. BENCH_BASELINE_DIR may hold earlier builds
// (cost-check.mjs, billing.mjs, e.g. from `git show <rev>:actions/<name>/dist/index.js`) measured side by side.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { measureAction, measureNode } from './support/processes.js';

const RUNS = 7;
const dir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
const empty = join(dir, 'empty.mjs');
writeFileSync(empty, '');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const bareSamples: number[] = [];
for (let i = 0; i < RUNS; i++) bareSamples.push((await measureNode([empty], {})).cpuMs);
const bare = median(bareSamples);

const badInput = { period: 'last-month-please' };
const rows: string[] = [];
for (const action of ['cost-check', 'billing']) {
  const baselineDir = process.env.BENCH_BASELINE_DIR;
  const builds = [
    ...(baselineDir && existsSync(join(baselineDir, `${action}.mjs`)) ? [{ name: 'baseline', dist: resolve(baselineDir, `${action}.mjs`) }] : []),
    { name: 'this build', dist: resolve(`actions/${action}/dist/index.js`) },
  ];
  for (const build of builds) {
    const samples: number[] = [];
    let annotation = '';
    for (let i = 0; i < RUNS; i++) {
      const run = await measureAction(build.dist, badInput, {});
      if (run.status === 0) throw new Error(`${action} accepted the bad input`);
      samples.push(run.cpuMs);
      annotation = run.stdout.split('\n').find((line) => line.startsWith('::error')) ?? '';
    }
    const cpu = median(samples);
    rows.push(`| ${action} | ${build.name} | ${cpu.toFixed(0)} ms | **${(cpu / bare).toFixed(2)}x** | \`${annotation.slice(0, 90)}…\` |`);
  }
}

console.log(`## Start-up: rejecting a bad input (period: last-month-please)

Node ${process.version}. Bare \`node\` running an empty module: ${bare.toFixed(0)} ms CPU (median of ${RUNS}). Each action run
as the runner runs it, as a whole process, median of ${RUNS}.

| Action | Build | CPU to fail | vs bare node | Annotation |
|:--|:--|--:|--:|:--|
${rows.join('\n')}
`);
