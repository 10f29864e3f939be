import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../../src/stripe/rateLimit.js';
import { mapWithConcurrency } from '../../../src/concurrency.js';

describe('createRateLimiter', () => {
  it('spaces requests at the configured rate across everyone sharing it', async () => {
    let clock = 1_000;
    const waits: number[] = [];
    const limiter = createRateLimiter(
      20,
      async (ms) => {
        waits.push(ms);
      },
      () => clock,
    );
    await Promise.all(Array.from({ length: 5 }, () => limiter.acquire()));
    // 20/s is one request per 50 ms: the first goes now, the others wait 50, 100, 150, 200 ms.
    expect(waits).toEqual([50, 100, 150, 200]);
    clock += 1_000;
    await limiter.acquire();
    expect(waits).toHaveLength(4);
  });
});

describe('mapWithConcurrency', () => {
  it('keeps the order of results and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapWithConcurrency([5, 1, 4, 2, 3, 6, 7], 3, async (value) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
      return value * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 60, 70]);
    expect(peak).toBe(3);
  });
});
