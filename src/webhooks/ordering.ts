/**
 * Stripe's `event.created` has one-second resolution, so two events of one object can share it. Comparing the
 * event id as well gives every pair of events one fixed order, whatever order they arrive in.
 */
export interface EventStamp {
  readonly created: number;
  readonly eventId: string;
}

export function isNewer(candidate: EventStamp, stored: EventStamp | undefined): boolean {
  if (!stored) return true;
  if (candidate.created !== stored.created) return candidate.created > stored.created;
  return candidate.eventId > stored.eventId;
}
