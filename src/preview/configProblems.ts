import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { describeIssue, loadBillingConfig, type BillingConfig } from '../config/load.js';
import { billingConfigSchema } from '../config/schema.js';
import { ConfigError } from '../errors.js';

/** One problem of a billing config, with the 1-based line of the file it is about when that is known. */
export interface ConfigProblem {
  readonly message: string;
  readonly line: number | undefined;
}

export type ConfigCheck = { readonly valid: true; readonly config: BillingConfig } | { readonly valid: false; readonly problems: readonly ConfigProblem[] };

/**
 * Validates a config file exactly as the actions load it, then places each problem on the line it is about: the
 * loader stays the one judge of validity, and the locating parse only runs for a file it already rejected.
 */
export async function checkConfigFile(path: string): Promise<ConfigCheck> {
  try {
    return { valid: true, config: await loadBillingConfig(path) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const lines = await problemLines(path);
    return { valid: false, problems: error.problems.map((message) => ({ message, line: lines.get(message) })) };
  }
}

/** The line of every problem the loader can report for this text, keyed by the loader's own message. */
async function problemLines(path: string): Promise<Map<string, number>> {
  const lines = new Map<string, number>();
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return lines;
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter });
  for (const error of document.errors) {
    const message = `${path}: not valid YAML: ${error.message.split('\n')[0]}`;
    if (error.linePos && !lines.has(message)) lines.set(message, error.linePos[0].line);
  }
  if (document.errors.length > 0) return lines;
  let raw: unknown;
  try {
    raw = document.toJS();
  } catch {
    return lines; // e.g. too many aliases: the loader's message stands without a line
  }
  const result = billingConfigSchema.safeParse(raw ?? {});
  if (result.success) return lines;
  for (const issue of result.error.issues) {
    const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    const offset = offsetOfPath(document.contents, key === undefined ? issue.path : [...issue.path, key]);
    const message = describeIssue(issue, raw);
    if (!lines.has(message)) lines.set(message, lineCounter.linePos(offset).line);
  }
  return lines;
}

/**
 * Where the deepest existing part of a path starts: the key of a map entry (its value may be empty), an item of a
 * list, or the enclosing node when the path names something missing.
 */
export function offsetOfPath(root: unknown, path: readonly PropertyKey[]): number {
  let node = root as Node | null | undefined;
  let offset = node?.range?.[0] ?? 0;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}
