import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ActionRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Record<string, string>;
  readonly summary: string;
  readonly workdir: string;
}

/**
 * Runs a built action the way the Actions runner does: `node dist/index.js` with each input as INPUT_<NAME>
 * and the summary and output files created beforehand. Asynchronous, so servers in this process keep answering.
 * `files` are written into the working directory first (the checkout, for inputs given as relative paths).
 */
export async function runAction(
  action: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): Promise<ActionRun> {
  const workdir = mkdtempSync(join(tmpdir(), `${action}-`));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(workdir, name), text);
  const summaryFile = join(workdir, 'summary.md');
  const outputFile = join(workdir, 'output.txt');
  writeFileSync(summaryFile, '');
  writeFileSync(outputFile, '');
  const inputEnv = Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]));
  const child = spawn(process.execPath, [join(process.cwd(), 'actions', action, 'dist', 'index.js')], {
    cwd: workdir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: workdir,
      NODE_NO_WARNINGS: '1',
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_OUTPUT: outputFile,
      ...inputEnv,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [status] = (await once(child, 'exit')) as [number | null];
  return { status, stdout, stderr, outputs: parseOutputs(readFileSync(outputFile, 'utf8')), summary: readFileSync(summaryFile, 'utf8'), workdir };
}

/** GITHUB_OUTPUT holds `name<<DELIMITER\nvalue\nDELIMITER` blocks. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const match of text.matchAll(/^(.+?)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[match[1]!] = match[3]!;
  return outputs;
}
