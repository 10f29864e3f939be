import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactZipError, readZipEntry } from '../../../src/github/zipEntry.js';

const dir = mkdtempSync(join(tmpdir(), 'zip-entry-'));
const report = JSON.stringify({ schemaVersion: 1, customers: Array.from({ length: 200 }, (_, i) => ({ customerId: `c${i}`, cost: '12.345678' })) });
writeFileSync(join(dir, 'cost-report.json'), report);
writeFileSync(join(dir, 'notes.txt'), 'not the report');

/** An archive made by the zip CLI (`-0` stores, the default deflates), as GitHub's artifact downloads are. */
function zip(name: string, flags: string[]): Buffer {
  execFileSync('zip', ['-q', '-j', ...flags, join(dir, name), join(dir, 'notes.txt'), join(dir, 'cost-report.json')]);
  return readFileSync(join(dir, name));
}

describe('reading one file of an artifact zip', () => {
  it('inflates a deflated entry found through the central directory', () => {
    const archive = zip('deflated.zip', ['-9']);
    expect(archive.length).toBeLessThan(report.length);
    expect(readZipEntry(archive, 'cost-report.json')?.toString('utf8')).toBe(report);
    expect(readZipEntry(archive, 'notes.txt')?.toString('utf8')).toBe('not the report');
  });

  it('reads a stored entry and an archive with a comment', () => {
    const archive = zip('stored.zip', ['-0']);
    expect(readZipEntry(archive, 'cost-report.json')?.toString('utf8')).toBe(report);
    const commented = Buffer.concat([archive.subarray(0, archive.length - 2), Buffer.from([5, 0]), Buffer.from('hello')]);
    expect(readZipEntry(commented, 'cost-report.json')?.toString('utf8')).toBe(report);
  });

  it('answers undefined for a file the archive does not hold', () => {
    expect(readZipEntry(zip('deflated.zip', []), 'cost-summary.md')).toBeUndefined();
  });

  it('refuses what is not a zip, a corrupted entry and an entry above the size limit', () => {
    expect(() => readZipEntry(Buffer.from('{"message":"Not Found"}'), 'cost-report.json')).toThrow(/not a zip archive/);
    const stored = Buffer.from(zip('stored.zip', ['-0']));
    const at = stored.indexOf('"c42"');
    stored[at + 2] = '7'.charCodeAt(0);
    expect(() => readZipEntry(stored, 'cost-report.json')).toThrow(ArtifactZipError);
    expect(() => readZipEntry(stored, 'cost-report.json')).toThrow(/CRC/);
    expect(() => readZipEntry(zip('deflated.zip', []), 'cost-report.json', 1000)).toThrow(/at most 1000 are read/);
  });
});
