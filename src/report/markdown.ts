/** Escapes text for one cell of a GitHub-flavoured markdown table: no broken columns, no injected markup. */
export function markdownCell(text: string): string {
  return text.replace(/[\\|`*_<>[\]]/g, (c) => `\\${c}`).replace(/\s+/g, ' ');
}
