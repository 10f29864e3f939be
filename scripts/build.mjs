#!/usr/bin/env node
// Bundles every action with ncc into actions/<name>/dist/index.js (committed) and the webhook Lambda with
// esbuild into lambda/billing-handler/dist/handler.cjs (built for the deploy, not committed).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { transformSync } from 'esbuild';
import { join } from 'node:path';
import { bundleLambda } from './lambdaBundle.mjs';

const only = process.argv[2];
const actions = readdirSync('actions').filter((name) => existsSync(join('actions', name, 'action.yml')));

for (const name of actions) {
  if (only && only !== name && only !== 'actions') continue;
  const out = join('actions', name, 'dist');
  rmSync(out, { recursive: true, force: true });
  execFileSync(
    'npx',
    ['ncc', 'build', join('actions', name, 'index.ts'), '-o', out, '--minify', '--no-source-map-register', '--license', 'licenses.txt', '-q'],
    { stdio: 'inherit' },
  );
  // ncc minifies index.js only; the chunks an action loads lazily (after its inputs are valid) are minified here.
  for (const chunk of readdirSync(out).filter((file) => /^\d+\.index\.js$/.test(file))) {
    const path = join(out, chunk);
    writeFileSync(path, transformSync(readFileSync(path, 'utf8'), { minify: true, format: 'esm', legalComments: 'none' }).code);
  }
  console.log(`built ${out}/index.js`);
}

if (!only || only === 'lambda') {
  for (const name of existsSync('lambda') ? readdirSync('lambda') : []) {
    const entry = join('lambda', name, 'handler.ts');
    if (!existsSync(entry)) continue;
    const outfile = join('lambda', name, 'dist', 'handler.cjs');
    bundleLambda(entry, outfile);
    console.log(`built ${outfile}`);
  }
}
