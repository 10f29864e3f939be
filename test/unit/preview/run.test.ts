import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PREVIEW_MARKER } from '../../../src/preview/render.js';
import { runBillingPreview, type PreviewGitHubPort } from '../../../src/preview/run.js';
import { baseConfigText, invalidConfigText, proposedConfigText } from '../../support/billingPreview.js';
import { demoSnapshot } from '../../support/snapshots.js';

const dir = mkdtempSync(join(tmpdir(), 'preview-run-'));

/** An in-memory GitHub: what the preview asked for and what it wrote. */
function memoryGitHub(base: string | undefined, withReport = true) {
  const calls: string[] = [];
  const comments: string[] = [];
  const port: PreviewGitHubPort = {
    latestCostReport: async () => {
      calls.push('latestCostReport');
      return withReport ? { snapshot: await demoSnapshot(), runUrl: 'https://github.com/o/r/actions/runs/1' } : undefined;
    },
    baseConfigText: async (path) => {
      calls.push(`baseConfigText ${path}`);
      return base;
    },
    upsertComment: async (marker, body) => {
      expect(marker).toBe(PREVIEW_MARKER);
      comments.push(body);
      return comments.length === 1 ? 'created' : 'updated';
    },
  };
  return { port, calls, comments };
}

function configFile(text: string): string {
  const path = join(mkdtempSync(join(dir, 'pr-')), 'billing.config.yaml');
  writeFileSync(path, text);
  return path;
}

describe('the billing preview run', () => {
  it('comments and summarises the same preview', async () => {
    const github = memoryGitHub(baseConfigText);
    const outcome = await runBillingPreview(github.port, { configPath: configFile(proposedConfigText()), comment: true });
    expect(outcome).toMatchObject({ problems: [], comment: 'created' });
    expect(github.comments).toEqual([outcome.summary]);
    expect(outcome.summary).toContain('| Acme Corp (acme) | changed |');
  });

  it('shows every customer as added when the base branch has no config, or an invalid one', async () => {
    for (const [base, note] of [
      [undefined, 'The base branch has no'],
      ['customers: []\n', "The base branch's"],
    ] as const) {
      const outcome = await runBillingPreview(memoryGitHub(base).port, { configPath: configFile(proposedConfigText()), comment: true });
      expect(outcome.summary).toContain(note);
      expect(outcome.summary.match(/ \| added \| /g)).toHaveLength(5);
    }
  });

  it('writes no comment for a fork, and compares terms alone without a cost report', async () => {
    const github = memoryGitHub(baseConfigText, false);
    const outcome = await runBillingPreview(github.port, { configPath: configFile(proposedConfigText()), comment: false });
    expect(outcome.comment).toBe('skipped');
    expect(github.comments).toEqual([]);
    expect(outcome.summary).toContain('No cost report was found');
  });

  it('looks nothing up for an invalid config and reports its problems', async () => {
    const github = memoryGitHub(baseConfigText);
    const outcome = await runBillingPreview(github.port, { configPath: configFile(invalidConfigText), comment: true });
    expect(outcome.problems).toHaveLength(4);
    expect(github.calls).toEqual([]);
    expect(github.comments[0]).toContain('The config is invalid (4 problems)');
  });
});
