// Start-up: what an action costs to reject a bad input, as a whole process (kernel CPU figures, median of 7),
// against a bare `node` running an empty module in the same run. BENCH_BASELINE_DIR may hold earlier builds
// (cost-check.mjs, billing.mjs, e.g. from `git show <rev>:actions/<name>/dist/index.js`) measured side by side.
// Then the webhook Lambda's bundle, built as the deploy builds it, against a bundle of only the AWS SDK clients it
// uses (same bundler and settings): whole processes loading each, alternating in one run.
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleLambda } from '../scripts/lambdaBundle.mjs';
import { measureAction, measureNode } from './support/processes.js';

const RUNS = 7;
const dir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
const empty = join(dir, 'empty.mjs');
writeFileSync(empty, '');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const badInput = { period: 'last-month-please' };
const baselineDir = process.env.BENCH_BASELINE_DIR;
const builds = ['cost-check', 'billing'].flatMap((action) => [
  ...(baselineDir && existsSync(join(baselineDir, `${action}.mjs`))
    ? [{ action, name: 'baseline', dist: resolve(baselineDir, `${action}.mjs`), samples: [] as number[], annotation: '' }]
    : []),
  { action, name: 'this build', dist: resolve(`actions/${action}/dist/index.js`), samples: [] as number[], annotation: '' },
]);
// Bare node and every build take turns, so each median sees the same load on a shared machine.
const bareSamples: number[] = [];
for (let i = 0; i < RUNS; i++) {
  bareSamples.push((await measureNode([empty], {})).cpuMs);
  for (const build of builds) {
    const run = await measureAction(build.dist, badInput, {});
    if (run.status === 0) throw new Error(`${build.action} accepted the bad input`);
    build.samples.push(run.cpuMs);
    build.annotation = run.stdout.split('\n').find((line) => line.startsWith('::error')) ?? '';
  }
}
const bare = median(bareSamples);
const rows = builds.map((build) => {
  const cpu = median(build.samples);
  return `| ${build.action} | ${build.name} | ${cpu.toFixed(0)} ms | **${(cpu / bare).toFixed(2)}x** | \`${build.annotation.slice(0, 90)}…\` |`;
});

console.log(`## Start-up: rejecting a bad input (period: last-month-please)

Node ${process.version}. Bare \`node\` running an empty module: ${bare.toFixed(0)} ms CPU (median of ${RUNS}). Each action run
as the runner runs it, as a whole process, median of ${RUNS}, taking turns with bare \`node\`.

| Action | Build | CPU to fail | vs bare node | Annotation |
|:--|:--|--:|--:|:--|
${rows.join('\n')}
`);

const LAMBDA_RUNS = 15;
const LAMBDA_GOAL = 1.3;

/** The npm packages with code in a bundle (imported but tree-shaken away does not count), from esbuild's metafile. */
function bundledPackages(metafile: string): Set<string> {
  const meta = JSON.parse(readFileSync(metafile, 'utf8')) as { outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> };
  const inputs = Object.values(meta.outputs).flatMap((output) => Object.entries(output.inputs));
  const packages = inputs.flatMap(([input, { bytesInOutput }]) => (bytesInOutput > 0 ? (/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1] ?? []) : []));
  return new Set(packages);
}

const isAws = (name: string) => name.startsWith('@aws-sdk/') || name.startsWith('@smithy/') || name.startsWith('@aws/');
const handlerBundle = bundleLambda('lambda/billing-handler/handler.ts', join(dir, 'handler.cjs'), { metafile: join(dir, 'handler.json') });
const sdkBundle = bundleLambda('bench/support/sdkOnlyLambda.ts', join(dir, 'sdk-only.cjs'), { metafile: join(dir, 'sdk-only.json') });
const handlerPackages = bundledPackages(join(dir, 'handler.json'));
const sdkPackages = bundledPackages(join(dir, 'sdk-only.json'));
const sdkOnlyExtra = [...sdkPackages].filter((name) => !handlerPackages.has(name));
const awsMissing = [...handlerPackages].filter((name) => isAws(name) && !sdkPackages.has(name));
if (sdkOnlyExtra.length > 0 || awsMissing.length > 0) {
  throw new Error(
    `bench/support/sdkOnlyLambda.ts no longer matches the clients the handler uses: it adds ${sdkOnlyExtra.join(', ') || 'nothing'} and lacks ${awsMissing.join(', ') || 'nothing'}`,
  );
}
const handlerOnly = [...handlerPackages].filter((name) => !sdkPackages.has(name)).sort();

const emptyCjs = join(dir, 'empty.cjs');
writeFileSync(emptyCjs, '');
// A baseline Lambda: the sources of an earlier commit extracted into BENCH_BASELINE_DIR (src/ and lambda/, e.g.
// `git archive <rev> src lambda | tar -x -C .bench-baseline`), bundled the same way.
const baselineEntry = baselineDir ? join(baselineDir, 'lambda/billing-handler/handler.ts') : undefined;
const bundles = [
  { name: 'bare `node`, empty module', file: emptyCjs, cpu: [] as number[], rss: [] as number[] },
  { name: 'AWS SDK clients only', file: sdkBundle, cpu: [] as number[], rss: [] as number[] },
  ...(baselineEntry && existsSync(baselineEntry)
    ? [
        {
          name: 'lambda/billing-handler, baseline',
          file: bundleLambda(baselineEntry, join(dir, 'baseline-handler.cjs')),
          cpu: [] as number[],
          rss: [] as number[],
        },
      ]
    : []),
  { name: 'lambda/billing-handler, this build', file: handlerBundle, cpu: [] as number[], rss: [] as number[] },
];
for (let i = 0; i < LAMBDA_RUNS; i++) {
  for (const bundle of bundles) {
    const load = await measureNode([bundle.file], {});
    if (load.status !== 0) throw new Error(`${bundle.name} failed to load: ${load.stderr}`);
    bundle.cpu.push(load.cpuMs);
    bundle.rss.push(load.maxRssMiB);
  }
}
const [bareLoad, sdkLoad] = bundles.map((bundle) => median(bundle.cpu)) as [number, number];
const lambdaRows = bundles.map((bundle, index) => {
  const cpu = median(bundle.cpu);
  const versus = index === 0 ? '–' : index === 1 ? '1.00x' : `**${(cpu / sdkLoad).toFixed(2)}x** (goal ≤ ${LAMBDA_GOAL}x)`;
  const aboveBare = index === 0 ? '–' : `${(cpu - bareLoad).toFixed(0)} ms`;
  const size = index === 0 ? '–' : `${(statSync(bundle.file).size / 1024).toFixed(0)} KiB`;
  return `| ${bundle.name} | ${size} | ${cpu.toFixed(0)} ms | ${aboveBare} | ${median(bundle.rss).toFixed(0)} MiB | ${versus} |`;
});

console.log(`## Start-up: the webhook Lambda bundle against its AWS SDK clients alone

Node ${process.version}. Every bundle built by \`bundleLambda\` (\`scripts/lambdaBundle.mjs\`, as \`npm run build\` builds
the deployed \`lambda/billing-handler/dist/handler.cjs\`); the SDK-only one from \`bench/support/sdkOnlyLambda.ts\`, which
holds every AWS package of the real bundle and nothing else. Each row: a whole \`node\` process loading the bundle
(what the Lambda runtime does at init), median of ${LAMBDA_RUNS}, all rows taking turns in one run. The handler
bundle's packages beyond the SDK-only one: ${handlerOnly.join(', ') || 'none'}.

| Bundle | Size | CPU to load (whole process) | Above bare \`node\` | Peak RSS | vs SDK-only |
|:--|--:|--:|--:|--:|--:|
${lambdaRows.join('\n')}
`);
