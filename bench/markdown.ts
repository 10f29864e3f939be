/** A benchmark's section as BENCHMARKS.md reproduces it: a heading, optional paragraphs, a two-column table. */
export function measureSection(heading: string, rows: ReadonlyArray<readonly [string, string]>, ...paragraphs: string[]): string {
  return [
    `## ${heading}`,
    '',
    ...paragraphs.flatMap((text) => [text, '']),
    '| Measure | Value |',
    '| --- | --- |',
    ...rows.map(([name, value]) => `| ${name} | ${value} |`),
    '',
  ].join('\n');
}
