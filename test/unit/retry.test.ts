import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { withRetry, type RetryOptions } from '../../src/retry.js';

class Retryable extends Error {
  override name = 'Retryable';
}
class Fatal extends Error {
  override name = 'Fatal';
}

/** Options with a recorded, instant sleep and a fixed random; `overrides` win. */
function options(overrides: Partial<RetryOptions> = {}) {
  const sleeps: number[] = [];
  const retries: Array<{ error: unknown; attempt: number; delayMs: number }> = [];
  const opts: RetryOptions = {
    attempts: 4,
    baseDelayMs: 100,
    maxDelayMs: 1_000,
    isRetryable: (error) => error instanceof Retryable,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 1,
    onRetry: (error, attempt, delayMs) => retries.push({ error, attempt, delayMs }),
    ...overrides,
  };
  return { opts, sleeps, retries };
}

/** An operation that fails with `errors` in turn, then returns `value`; records the attempt numbers it was given. */
function failingThen<T>(errors: readonly Error[], value: T) {
  const attempts: number[] = [];
  const operation = async (attempt: number) => {
    attempts.push(attempt);
    const error = errors[attempts.length - 1];
    if (error) throw error;
    return value;
  };
  return { operation, attempts };
}

describe('withRetry', () => {
  it('returns the first success without sleeping', async () => {
    const { opts, sleeps, retries } = options();
    const { operation, attempts } = failingThen([], 'done');
    await expect(withRetry(operation, opts)).resolves.toBe('done');
    expect(attempts).toEqual([1]);
    expect(sleeps).toEqual([]);
    expect(retries).toEqual([]);
  });

  it('retries retryable errors, numbering the attempts from 1, and returns the eventual success', async () => {
    const { opts, sleeps, retries } = options();
    const first = new Retryable('one');
    const second = new Retryable('two');
    const { operation, attempts } = failingThen([first, second], 42);
    await expect(withRetry(operation, opts)).resolves.toBe(42);
    expect(attempts).toEqual([1, 2, 3]);
    expect(sleeps).toHaveLength(2);
    expect(retries.map((r) => [r.error, r.attempt])).toEqual([
      [first, 1],
      [second, 2],
    ]);
    expect(retries.map((r) => r.delayMs)).toEqual(sleeps);
  });

  it('makes exactly `attempts` calls and then throws the last error, not the first', async () => {
    const { opts, sleeps } = options({ attempts: 3 });
    const errors = [new Retryable('first'), new Retryable('second'), new Retryable('last'), new Retryable('never reached')];
    const { operation, attempts } = failingThen(errors, 'unreachable');
    await expect(withRetry(operation, opts)).rejects.toBe(errors[2]);
    expect(attempts).toEqual([1, 2, 3]);
    expect(sleeps).toHaveLength(2);
  });

  it('treats attempts of 1 (or less) as a single call', async () => {
    for (const attemptsAllowed of [1, 0]) {
      const { opts, sleeps } = options({ attempts: attemptsAllowed });
      const error = new Retryable('once');
      const { operation, attempts } = failingThen([error, error], 'unreachable');
      await expect(withRetry(operation, opts)).rejects.toBe(error);
      expect(attempts).toEqual([1]);
      expect(sleeps).toEqual([]);
    }
  });

  it('throws an error that is not retryable at once, without sleeping or calling onRetry', async () => {
    const { opts, sleeps, retries } = options();
    const fatal = new Fatal('no');
    const { operation, attempts } = failingThen([fatal], 'unreachable');
    await expect(withRetry(operation, opts)).rejects.toBe(fatal);
    expect(attempts).toEqual([1]);
    expect(sleeps).toEqual([]);
    expect(retries).toEqual([]);
  });

  it('stops at the first non-retryable error after some retries, throwing that one', async () => {
    const { opts, sleeps } = options();
    const fatal = new Fatal('stop');
    const { operation, attempts } = failingThen([new Retryable('a'), fatal, new Retryable('b')], 'unreachable');
    await expect(withRetry(operation, opts)).rejects.toBe(fatal);
    expect(attempts).toEqual([1, 2]);
    expect(sleeps).toHaveLength(1);
  });

  it('asks isRetryable about each error it catches, non-Error values included', async () => {
    const seen: unknown[] = [];
    const { opts } = options({ isRetryable: (error) => (seen.push(error), error === 'again') });
    const { operation } = {
      operation: async (attempt: number) => {
        if (attempt === 1) throw 'again';
        throw 'give up';
      },
    };
    await expect(withRetry(operation, opts)).rejects.toBe('give up');
    expect(seen).toEqual(['again', 'give up']);
  });

  it('doubles the ceiling each attempt from the base delay and caps it at the maximum', async () => {
    // random() = 1 shows the ceiling itself: 100, 200, 400, 800, then capped at 1000.
    const { opts, sleeps } = options({ attempts: 7, random: () => 1 });
    const { operation } = failingThen(
      Array.from({ length: 7 }, () => new Retryable('busy')),
      'unreachable',
    );
    await expect(withRetry(operation, opts)).rejects.toBeInstanceOf(Retryable);
    expect(sleeps).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('applies full jitter: the delay is random() times the ceiling, rounded to whole milliseconds', async () => {
    const randoms = [0, 0.5, 0.123, 0.9999];
    const { opts, sleeps } = options({ attempts: 5, random: () => randoms.shift()! });
    const { operation } = failingThen(
      Array.from({ length: 5 }, () => new Retryable('busy')),
      'unreachable',
    );
    await expect(withRetry(operation, opts)).rejects.toBeInstanceOf(Retryable);
    // ceilings 100, 200, 400, 800
    expect(sleeps).toEqual([0, 100, 49, 800]);
  });

  test.prop([
    fc.integer({ min: 1, max: 10 }),
    fc.integer({ min: 0, max: 5_000 }),
    fc.integer({ min: 0, max: 60_000 }),
    fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })),
  ])(
    'when every attempt fails: `attempts` calls, one sleep between each, each delay within [0, min(max, base·2^(n-1))]',
    async (attempts, baseDelayMs, maxDelayMs, randoms) => {
      const { opts, sleeps, retries } = options({ attempts, baseDelayMs, maxDelayMs, random: () => randoms.next().value as number });
      const errors = Array.from({ length: attempts }, (_, i) => new Retryable(`attempt ${i + 1}`));
      const { operation, attempts: calls } = failingThen(errors, 'unreachable');
      await expect(withRetry(operation, opts)).rejects.toBe(errors[attempts - 1]);
      expect(calls).toEqual(Array.from({ length: attempts }, (_, i) => i + 1));
      expect(sleeps).toHaveLength(attempts - 1);
      sleeps.forEach((delay, i) => {
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(Math.min(maxDelayMs, baseDelayMs * 2 ** i));
      });
      expect(retries.map((r) => r.attempt)).toEqual(calls.slice(0, -1));
    },
  );

  test.prop([fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 12 })])(
    'succeeds after k failures when k < attempts, else throws; never calls more than `attempts` times',
    async (attempts, failures) => {
      const { opts } = options({ attempts, random: () => 0.5 });
      const { operation, attempts: calls } = failingThen(
        Array.from({ length: failures }, () => new Retryable('x')),
        'ok',
      );
      const outcome = await withRetry(operation, opts).catch((error: unknown) => error);
      if (failures < attempts) {
        expect(outcome).toBe('ok');
        expect(calls).toHaveLength(failures + 1);
      } else {
        expect(outcome).toBeInstanceOf(Retryable);
        expect(calls).toHaveLength(attempts);
      }
    },
  );
});
