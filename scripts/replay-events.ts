// Backfill after an outage: lists Stripe events since a time and feeds them through the webhook handler's own
// processing (same tables, same topic, same dedupe markers). Running it twice changes nothing the second time.
//
//   STRIPE_API_KEY=rk_live_... BILLING_TABLE=... SUBSCRIPTIONS_TABLE=... SNS_TOPIC_ARN=... \
//     npm run replay-events -- --since 2026-11-20T00:00:00Z [--types invoice.paid,invoice.payment_failed]
import { parseArgs } from 'node:util';
import { webhookServiceFromEnvironment } from '../lambda/billing-handler/wiring.js';
import { describeError } from '../src/errors.js';
import { listEventsSince } from '../src/stripe/events.js';
import { HANDLED_EVENT_TYPES } from '../src/webhooks/events.js';
import { parseSince, replayEvents } from '../src/webhooks/replay.js';
import { silentTelemetry } from '../src/webhooks/telemetry.js';
import { createStripe } from '../src/stripe/client.js';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { since: { type: 'string' }, types: { type: 'string' } } });
  if (!values.since) {
    console.error('usage: npm run replay-events -- --since <ISO time | epoch seconds | 36h | 3d> [--types a,b,c]');
    return 2;
  }
  const apiKey = process.env.STRIPE_API_KEY;
  if (!apiKey) {
    console.error('STRIPE_API_KEY is not set: use a restricted key with read access to Events');
    return 2;
  }
  const since = parseSince(values.since, Date.now());
  const types = values.types
    ? values.types
        .split(',')
        .map((type) => type.trim())
        .filter(Boolean)
    : HANDLED_EVENT_TYPES;
  const service = webhookServiceFromEnvironment(process.env, { telemetry: silentTelemetry });
  const stripe = createStripe(apiKey, { networkRetries: 3 });

  console.log(`replaying ${types.length} event type(s) created since ${new Date(since * 1000).toISOString()}`);
  const summary = await replayEvents(listEventsSince(stripe, since, types), { process: service.processEvent, report: (line) => console.log(line) });
  console.log(JSON.stringify(summary));
  if (summary.retry) console.error(`${summary.retry} event(s) failed or were busy: run the same command again`);
  return summary.retry || summary.unreadable ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`replay failed: ${describeError(error)}`);
    process.exit(1);
  },
);
