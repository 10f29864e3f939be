import { ConfigError } from '../errors.js';

/** Reads one action input by its name as written in action.yml; '' when unset (as @actions/core does). */
export type InputReader = (name: string) => string;

/**
 * Collects every problem with the inputs instead of stopping at the first, so one failed run shows them all.
 * Nothing has touched AWS or Stripe when `done()` throws.
 */
export class InputParser {
  private readonly problems: string[] = [];
  constructor(private readonly read: InputReader) {}

  text(name: string, fallback = ''): string {
    return this.read(name).trim() || fallback;
  }

  matching(name: string, pattern: RegExp, form: string, fallback = ''): string {
    const value = this.text(name, fallback);
    if (value !== '' && !pattern.test(value)) this.fail(name, value, form);
    return value;
  }

  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.text(name, fallback);
    if (!(choices as readonly string[]).includes(value)) {
      this.fail(name, value, `one of ${choices.join(', ')}`);
      return fallback;
    }
    return value as T;
  }

  number(name: string, fallback: number, { min = 0, max = 1e9, example = fallback } = {}): number {
    const raw = this.text(name);
    if (raw === '') return fallback;
    const value = Number(raw.replace(/_/g, ''));
    if (!/^-?\d+(\.\d+)?$/.test(raw.replace(/_/g, '')) || value < min || value > max) {
      this.fail(name, raw, `a number from ${min} to ${max}, such as ${example}`);
      return fallback;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.text(name).toLowerCase();
    if (raw === '') return fallback;
    if (['true', 'yes', '1', 'on'].includes(raw)) return true;
    if (['false', 'no', '0', 'off'].includes(raw)) return false;
    this.fail(name, raw, 'true or false');
    return fallback;
  }

  /** Runs a parser that throws with a message of its own (periods, config files) and keeps the message. */
  attempt<T>(run: () => T, fallback: T): T {
    try {
      return run();
    } catch (error) {
      this.problems.push((error as Error).message);
      return fallback;
    }
  }

  fail(name: string, value: string, form: string): void {
    this.problems.push(`input ${name} is "${value}"; expected ${form}`);
  }

  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

export const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
export const DYNAMODB_TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
export const SNS_TOPIC_ARN_FORM = 'an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:billing-alerts';
export const DYNAMODB_TABLE_NAME_FORM = 'a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)';
