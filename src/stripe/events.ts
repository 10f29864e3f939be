import type Stripe from 'stripe';

/** Every event of the given types created at or after `since` (epoch seconds), following Stripe's pagination. */
export async function* listEventsSince(stripe: Stripe, since: number, types: readonly string[]): AsyncGenerator<Stripe.Event> {
  // The API accepts at most 20 types per request.
  for (let start = 0; start < types.length; start += 20) {
    yield* stripe.events.list({ created: { gte: since }, types: types.slice(start, start + 20), limit: 100 });
  }
}
