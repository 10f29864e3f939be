import { EOL } from 'node:os';

/**
 * The two runner conventions an action needs before it knows its inputs are valid, without @actions/core (which
 * loads an HTTP client): reading an input and writing an error annotation. Same rules as @actions/core.
 */

/** `getInput`: INPUT_<NAME> with spaces as underscores, upper-cased, trimmed; empty when unset. */
export function actionInput(name: string): string {
  return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

/** `::error title=...::message`, escaped as the runner expects. */
export function errorAnnotation(message: string, title: string): void {
  process.stdout.write(`::error title=${escapeProperty(title)}::${escapeData(message)}${EOL}`);
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
