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
const loads = { bare: [] as number[], sdk: [] as number[], handler: [] as number[], sdkRss: [] as number[], handlerRss: [] as number[] };
for (let i = 0; i < LAMBDA_RUNS; i++) {
  loads.bare.push((await measureNode([emptyCjs], {})).cpuMs);
  const sdk = await measureNode([sdkBundle], {});
  const handler = await measureNode([handlerBundle], {});
  if (sdk.status !== 0 || handler.status !== 0) throw new Error(`a bundle failed to load: ${sdk.stderr}${handler.stderr}`);
  loads.sdk.push(sdk.cpuMs);
  loads.handler.push(handler.cpuMs);
  loads.sdkRss.push(sdk.maxRssMiB);
  loads.handlerRss.push(handler.maxRssMiB);
}
const lambda = {
  bare: median(loads.bare),
  sdk: median(loads.sdk),
  handler: median(loads.handler),
  sdkRss: median(loads.sdkRss),
  handlerRss: median(loads.handlerRss),
};
const kib = (file: string) => `${(statSync(file).size / 1024).toFixed(0)} KiB`;
const ratio = lambda.handler / lambda.sdk;
const aboveBare = (lambda.handler - lambda.bare) / (lambda.sdk - lambda.bare);

console.log(`## Start-up: the webhook Lambda bundle against its AWS SDK clients alone

Node ${process.version}. Both bundles built by \`bundleLambda\` (\`scripts/lambdaBundle.mjs\`, as \`npm run build\` builds
the deployed \`lambda/billing-handler/dist/handler.cjs\`); the SDK-only one from \`bench/support/sdkOnlyLambda.ts\`, which
holds every AWS package of the real bundle and nothing else. Each row: a whole \`node\` process loading the bundle
(what the Lambda runtime does at init), median of ${LAMBDA_RUNS}, the three alternating in one run. The handler
bundle's packages beyond the SDK-only one: ${handlerOnly.join(', ') || 'none'}.

| Bundle | Size | CPU to load (whole process) | Peak RSS | vs SDK-only |
|:--|--:|--:|--:|--:|
| bare \`node\`, empty module | – | ${lambda.bare.toFixed(0)} ms | – | – |
| AWS SDK clients only | ${kib(sdkBundle)} | ${lambda.sdk.toFixed(0)} ms | ${lambda.sdkRss.toFixed(0)} MiB | 1.00x |
| lambda/billing-handler | ${kib(handlerBundle)} | ${lambda.handler.toFixed(0)} ms | ${lambda.handlerRss.toFixed(0)} MiB | **${ratio.toFixed(2)}x** (goal ≤ ${LAMBDA_GOAL}x) |

Above bare \`node\`, the handler bundle costs ${(lambda.handler - lambda.bare).toFixed(0)} ms against ${(lambda.sdk - lambda.bare).toFixed(0)} ms: ${aboveBare.toFixed(2)}x.
`);
