import * as core from '@actions/core';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setOutput, warningAnnotation, errorAnnotation } from '../../../src/github/commands.js';
import { writeJobSummary } from '../../../src/github/runtime.js';

/** The runner conventions written without @actions/core: the same bytes as @actions/core writes. */
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runner-files-'));
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

function emptyFile(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, '');
  return path;
}

const sameDelimiter = (text: string) => text.replace(/ghadelimiter_[0-9a-f-]{36}/g, 'ghadelimiter_<uuid>');

function stdoutOf(write: () => void): string {
  let text = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  write();
  vi.restoreAllMocks();
  return text;
}

describe('runner commands without @actions/core', () => {
  it('writes outputs to GITHUB_OUTPUT as @actions/core does, multi-line values included', () => {
    const ours = emptyFile('ours.txt');
    const theirs = emptyFile('theirs.txt');
    const outputs: Array<[string, string]> = [
      ['report-path', 'cost-report.json'],
      ['alerts-count', '{"actual":2143}'],
      ['unmapped', 'line 1\nline 2 with ::colons:: and 100%'],
      ['empty', ''],
    ];
    vi.stubEnv('GITHUB_OUTPUT', ours);
    for (const [name, value] of outputs) setOutput(name, value);
    vi.stubEnv('GITHUB_OUTPUT', theirs);
    for (const [name, value] of outputs) core.setOutput(name, value);
    const written = readFileSync(ours, 'utf8');
    expect(written).toContain('unmapped<<ghadelimiter_');
    expect(sameDelimiter(written)).toBe(sameDelimiter(readFileSync(theirs, 'utf8')));
  });

  it('refuses to write an output when the GITHUB_OUTPUT file is missing, as @actions/core does', () => {
    vi.stubEnv('GITHUB_OUTPUT', join(dir, 'missing.txt'));
    expect(() => setOutput('alerts', '[]')).toThrow(`Missing file at path: ${join(dir, 'missing.txt')}`);
  });

  it('falls back to the ::set-output command without a GITHUB_OUTPUT file, as @actions/core does', () => {
    vi.stubEnv('GITHUB_OUTPUT', '');
    expect(stdoutOf(() => setOutput('total', 'a%b\nc'))).toBe(stdoutOf(() => core.setOutput('total', 'a%b\nc')));
  });

  it('writes warning and error annotations with their title escaped as @actions/core does', () => {
    const message = '1,234.50 of cost matches no customer (111111111111, (none)); 100% of it\nsecond line';
    expect(stdoutOf(() => warningAnnotation(message, 'Unmapped cost: a, b'))).toBe(stdoutOf(() => core.warning(message, { title: 'Unmapped cost: a, b' })));
    expect(stdoutOf(() => errorAnnotation(message, 'SNS publish failed'))).toBe(stdoutOf(() => core.error(message, { title: 'SNS publish failed' })));
  });

  it('appends the job summary as @actions/core summary.addRaw(markdown, true).write() does', async () => {
    const ours = emptyFile('ours.md');
    const theirs = emptyFile('theirs.md');
    const markdown = '## AWS costs for October 2026\n\n| a | b |\n|--:|--:|\n| 1 | 2 |';
    vi.stubEnv('GITHUB_STEP_SUMMARY', ours);
    await writeJobSummary(markdown);
    await writeJobSummary('second section');
    vi.stubEnv('GITHUB_STEP_SUMMARY', theirs);
    await core.summary.addRaw(markdown, true).write();
    await core.summary.addRaw('second section', true).write();
    expect(readFileSync(ours, 'utf8')).toBe(readFileSync(theirs, 'utf8'));
  });

  it('names a summary file it cannot reach', async () => {
    const missing = join(dir, 'gone', 'summary.md');
    vi.stubEnv('GITHUB_STEP_SUMMARY', missing);
    await expect(writeJobSummary('x')).rejects.toThrow(`Unable to access summary file: '${missing}'. Check if the file has correct read/write permissions.`);
  });
});
