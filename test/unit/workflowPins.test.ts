import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

// The linters themselves (actionlint, cfn-lint, shellcheck, ESLint, Prettier) run in `npm run lint` and CI.
const WORKFLOWS = readdirSync('.github/workflows')
  .filter((name) => name.endsWith('.yml'))
  .map((name) => join('.github/workflows', name));

it('pins every action of every workflow to a full commit SHA with its version in a comment', () => {
  expect(WORKFLOWS).toEqual(expect.arrayContaining(['.github/workflows/ci.yml', '.github/workflows/cost-check.yml', '.github/workflows/deploy.yml']));
  const uses = WORKFLOWS.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/^\s*(?:-\s*)?uses:\s*(.+)$/gm)].map((m) => m[1]!.trim()));
  expect(uses.length).toBeGreaterThan(0);
  for (const use of uses.filter((u) => !u.startsWith('./'))) expect(use).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/);
});
