import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfigFile } from '../../../src/preview/configProblems.js';
import { invalidConfigLines, invalidConfigText, proposedConfigText } from '../../support/billingPreview.js';

const dir = mkdtempSync(join(tmpdir(), 'config-problems-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('config problems on the lines they are about', () => {
  it('accepts a valid config with the loader’s result', async () => {
    const check = await checkConfigFile(file('valid.yaml', proposedConfigText()));
    expect(check.valid && check.config.customers.map((customer) => customer.id)).toEqual(['acme', 'globex', 'initech', 'umbrella', 'wayne']);
  });

  it('places each schema problem on the line of its field, a missing field on its list item, an unknown key on the key', async () => {
    const check = await checkConfigFile(file('invalid.yaml', invalidConfigText));
    expect(check.valid).toBe(false);
    const problems = check.valid ? [] : check.problems;
    const lineOf = (pattern: RegExp) => problems.find((problem) => pattern.test(problem.message))?.line;
    expect(lineOf(/^customers\[0\]\.stripeCustomerId is "cus"; expected a Stripe customer id/)).toBe(invalidConfigLines.stripeCustomerId);
    expect(lineOf(/^customers\[1\]\.name is missing/)).toBe(invalidConfigLines.missingName);
    expect(lineOf(/^customers\[1\]\.allowance is -5; expected a monthly allowance of 0 or more/)).toBe(invalidConfigLines.allowance);
    expect(lineOf(/^customers\[1\]: unknown field "markup"/)).toBe(invalidConfigLines.unknownKey);
    expect(problems).toHaveLength(4);
  });

  it('places a YAML syntax error on its line', async () => {
    const check = await checkConfigFile(file('syntax.yaml', 'currency: usd\ncustomers:\n  - id: acme\n    name: "Acme\n'));
    const problems = check.valid ? [] : check.problems;
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]!.message).toMatch(/not valid YAML/);
    expect(problems[0]!.line).toBeGreaterThanOrEqual(4);
  });

  it('reports top-level problems on their lines', async () => {
    const check = await checkConfigFile(file('top.yaml', 'currency: USD\ncustomers: []\n'));
    const problems = check.valid ? [] : check.problems;
    expect(problems.map((problem) => [problem.message.split(' ')[0], problem.line])).toEqual([
      ['currency', 1],
      ['customers', 2],
    ]);
  });

  it('reports a missing file without a line', async () => {
    const check = await checkConfigFile(join(dir, 'absent.yaml'));
    expect(check.valid ? [] : check.problems).toEqual([{ message: expect.stringMatching(/does not exist/), line: undefined }]);
  });
});
