// How the webhook Lambda is bundled, in one place: the build, the tests and the benchmark all bundle it this way.
import { execFileSync } from 'node:child_process';

/**
 * Bundles a Lambda entry with esbuild into one minified CommonJS file for the nodejs24.x runtime. `metafile`, when
 * given, receives esbuild's account of what went into the bundle (the start-up bench compares bundles with it).
 */
export function bundleLambda(entry, outfile, { metafile } = {}) {
  execFileSync(
    'npx',
    [
      'esbuild',
      entry,
      '--bundle',
      '--platform=node',
      '--target=node24',
      '--format=cjs',
      '--minify',
      '--legal-comments=linked',
      `--outfile=${outfile}`,
      ...(metafile ? [`--metafile=${metafile}`] : []),
      '--log-level=warning',
    ],
    { stdio: 'inherit' },
  );
  return outfile;
}
