// Shows a job-summary markdown readably in a terminal: aligned tables, the Mermaid chart as bars, no markup noise.

const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

export function markdownForTerminal(markdown) {
  const out = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('|')) {
      const table = [];
      while (i < lines.length && lines[i].startsWith('|')) table.push(lines[i++]);
      i--;
      out.push(...alignTable(table));
    } else if (line === '```mermaid') {
      const chart = [];
      while (i + 1 < lines.length && lines[++i] !== '```') chart.push(lines[i]);
      out.push(...barChart(chart));
    } else if (line.startsWith('#')) {
      out.push(bold(line.replace(/^#+\s*/, '')));
    } else if (line.startsWith('> [!')) {
      continue;
    } else {
      out.push(
        line
          .replace(/^> /, '  ')
          .replace(/\*\*(.+?)\*\*/g, (_, t) => bold(t))
          .replace(/<\/?sub>/g, '')
          .replace(/\\(.)/g, '$1'),
      );
    }
  }
  return out.join('\n');
}

function alignTable(rows) {
  const cells = rows
    .filter((row) => !/^\|[\s:|-]+\|$/.test(row))
    .map((row) =>
      row
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) =>
          c
            .trim()
            .replace(/\*\*|(?<!\\)`/g, '')
            .replace(/\\(.)/g, '$1'),
        ),
    );
  const widths = cells[0].map((_, col) => Math.max(...cells.map((r) => [...(r[col] ?? '')].length)));
  return cells.map((row, index) => {
    const text = '  ' + row.map((c, col) => c + ' '.repeat(widths[col] - [...c].length)).join('  ');
    return index === 0 ? bold(text) : text;
  });
}

function barChart(chart) {
  const days = (chart.find((l) => l.includes('x-axis')) ?? '')
    .replace(/.*\[|\].*/g, '')
    .split(',')
    .map((s) => s.trim());
  const values = (chart.find((l) => l.trim().startsWith('bar')) ?? '')
    .replace(/.*\[|\].*/g, '')
    .split(',')
    .map(Number);
  const max = Math.max(1, ...values);
  return values.map((v, i) => `  ${days[i].padStart(2)} ${'█'.repeat(Math.round((v / max) * 40)).padEnd(40)} ${v.toFixed(2)}`);
}
