import { appendFileSync, existsSync } from 'node:fs';
import { EOL } from 'node:os';

/**
 * The runner conventions an action needs, without @actions/core (whose HTTP client alone costs a tenth of a
 * 1,000-customer cost check): reading an input, writing an output and an annotation. Same rules as @actions/core.
 */

/** `getInput`: INPUT_<NAME> with spaces as underscores, upper-cased, trimmed; empty when unset. */
export function actionInput(name: string): string {
  return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

/** `::error title=...::message`, escaped as the runner expects. */
export function errorAnnotation(message: string, title: string): void {
  annotation('error', message, title);
}

/** `::warning title=...::message`, escaped as the runner expects. */
export function warningAnnotation(message: string, title: string): void {
  annotation('warning', message, title);
}

function annotation(kind: 'error' | 'warning', message: string, title: string): void {
  process.stdout.write(`::${kind} title=${escapeProperty(title)}::${escapeData(message)}${EOL}`);
}

/**
 * `setOutput`: appended to the GITHUB_OUTPUT file between a random delimiter (`name<<ghadelimiter_<uuid>`), or the
 * old `::set-output` command where there is no such file.
 */
export function setOutput(name: string, value: string): void {
  const file = process.env.GITHUB_OUTPUT;
  if (!file) {
    process.stdout.write(`${EOL}::set-output name=${escapeProperty(name)}::${escapeData(value)}${EOL}`);
    return;
  }
  if (!existsSync(file)) throw new Error(`Missing file at path: ${file}`);
  // The global Web Crypto: node:crypto need not load with the input rules.
  const delimiter = `ghadelimiter_${crypto.randomUUID()}`;
  if (name.includes(delimiter) || value.includes(delimiter)) throw new Error(`Unexpected input: an output contains the delimiter "${delimiter}"`);
  appendFileSync(file, `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`, { encoding: 'utf8' });
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
