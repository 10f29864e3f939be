import { realSleep } from '../retry.js';

/** Spaces requests evenly at `perSecond` across everything that shares the limiter (all customers of a run). */
export interface RateLimiter {
  acquire(): Promise<void>;
}

export function createRateLimiter(perSecond: number, sleep: (ms: number) => Promise<void> = realSleep, now: () => number = Date.now): RateLimiter {
  if (!Number.isFinite(perSecond)) return { acquire: async () => undefined };
  const spacingMs = 1000 / perSecond;
  let nextSlot = 0;
  return {
    async acquire() {
      const at = Math.max(now(), nextSlot);
      nextSlot = at + spacingMs;
      const wait = at - now();
      if (wait > 0) await sleep(wait);
    },
  };
}
