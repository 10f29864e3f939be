import { describeError } from '../errors.js';
import { EventShapeError, parseEvent, type WebhookEvent } from './events.js';
import type { EventOutcome } from './processEvent.js';

/** Stripe lists events for 30 days; older ones cannot be replayed. */
export const EVENT_RETENTION_SECONDS = 30 * 24 * 3600;

export interface ReplaySummary {
  readonly listed: number;
  readonly processed: number;
  readonly duplicate: number;
  readonly ignored: number;
  /** Shapes this handler cannot read (logged; fix the schema, then replay again). */
  readonly unreadable: number;
  /** Transient failures or events another delivery is working on: run the replay again. */
  readonly retry: number;
}

export interface ReplayOptions {
  readonly process: (event: WebhookEvent) => Promise<EventOutcome>;
  readonly report?: (line: string) => void;
}

/**
 * Feeds events listed from the Stripe API (already authentic: no signature to check) through the same
 * processing as webhook deliveries, oldest first. The dedupe markers make a second run change nothing.
 */
export async function replayEvents(listed: AsyncIterable<unknown>, options: ReplayOptions): Promise<ReplaySummary> {
  const events: unknown[] = [];
  for await (const event of listed) events.push(event);
  events.sort((a, b) => createdOf(a) - createdOf(b));

  const counts = { listed: events.length, processed: 0, duplicate: 0, ignored: 0, unreadable: 0, retry: 0 };
  for (const raw of events) {
    const id = (raw as { id?: string }).id ?? '(no id)';
    let event: WebhookEvent;
    try {
      event = parseEvent(raw);
    } catch (error) {
      if (!(error instanceof EventShapeError)) throw error;
      counts.unreadable++;
      options.report?.(`unreadable ${id}: ${error.message}`);
      continue;
    }
    try {
      const result = await options.process(event);
      if (result.outcome === 'in_progress') counts.retry++;
      else counts[result.outcome]++;
      options.report?.(`${result.outcome} ${id} ${event.envelope.type}`);
    } catch (error) {
      counts.retry++;
      options.report?.(`failed ${id} ${event.envelope.type}: ${describeError(error)}`);
    }
  }
  return counts;
}

/** Accepts an ISO time ("2026-11-20T00:00:00Z"), epoch seconds, or an age such as "36h" or "3d". */
export function parseSince(text: string, nowMs: number): number {
  const age = /^(\d+)([hd])$/.exec(text.trim());
  const seconds = age
    ? Math.floor(nowMs / 1000) - Number(age[1]) * (age[2] === 'h' ? 3600 : 86400)
    : /^\d+$/.test(text.trim())
      ? Number(text)
      : Math.floor(Date.parse(text) / 1000);
  if (!Number.isFinite(seconds)) {
    throw new RangeError(`--since "${text}" is not a time: give an ISO time such as 2026-11-20T00:00:00Z, epoch seconds, or an age such as 36h or 3d`);
  }
  if (seconds < Math.floor(nowMs / 1000) - EVENT_RETENTION_SECONDS) {
    throw new RangeError(`--since "${text}" is more than 30 days ago; Stripe lists events for 30 days only`);
  }
  return seconds;
}

function createdOf(event: unknown): number {
  const created = (event as { created?: unknown }).created;
  return typeof created === 'number' ? created : 0;
}
