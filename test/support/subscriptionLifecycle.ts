import { fixtureEvent, withIds, type FixtureName } from './stripeEvents.js';

/** One subscription's five lifecycle events, delivered in every order by the ordering tests. */
export const LIFECYCLE: readonly FixtureName[] = [
  'customer.subscription.created',
  'customer.subscription.updated.quantity',
  'customer.subscription.trial_will_end',
  'customer.subscription.updated.active',
  'customer.subscription.deleted',
];
const SUBSCRIPTION = 'sub_1SwXyZ2eZvKYlo2C8a7bQ4rT';

export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) => permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]));
}

/** The lifecycle's events for a subscription of its own (`sub_order<run>`), with event ids of their own. */
export function lifecycleFor(run: number) {
  return LIFECYCLE.map((name) => {
    const event = fixtureEvent(name);
    return withIds(event, { [SUBSCRIPTION]: `sub_order${run}`, [event.id]: `${event.id}r${run}` });
  });
}

/** A stored subscription without what differs from run to run, so that the final states of all runs compare equal. */
export function comparableSubscription(record: object | undefined) {
  const state: Record<string, unknown> = { ...record };
  state.lastEvent = String(state.lastEventId).replace(/r\d+$/, '');
  for (const perRun of ['subscriptionId', 'updatedAt', 'lastEventId']) delete state[perRun];
  return state;
}
