import { describeError } from '../errors.js';
import { EventShapeError, parseEvent, PINNED_API_VERSION, type WebhookEvent } from './events.js';
import { processEvent, type EventOutcome, type EventProcessingDeps } from './processEvent.js';
import type { SecretSource } from './secrets.js';
import { NotAnEventError, SignatureRejectedError, type SignatureVerifier } from './signature.js';
import type { Telemetry } from './telemetry.js';

/** An HTTP delivery as API Gateway (HTTP API, payload 2.0) hands it over: headers lowercased, body maybe base64. */
export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | undefined;
  readonly isBase64Encoded: boolean;
  readonly requestId?: string;
}

export interface WebhookResponse {
  readonly statusCode: 200 | 400 | 413 | 500;
  readonly headers: { readonly 'content-type': 'application/json' };
  readonly body: string;
}

export interface WebhookServiceDeps extends EventProcessingDeps {
  readonly secrets: SecretSource;
  readonly verify: SignatureVerifier;
  readonly telemetry: Telemetry;
  readonly maxBodyBytes: number;
}

export interface WebhookService {
  handleDelivery(request: WebhookRequest): Promise<WebhookResponse>;
  /** The same path for an event that is already trusted (listed from the Stripe API by the backfill). */
  processEvent(event: WebhookEvent): Promise<EventOutcome>;
}

type Verdict =
  | { readonly status: 400 | 413; readonly outcome: 'rejected' | 'too_large'; readonly reason: string; readonly signatureFailure?: boolean }
  | { readonly status: 500; readonly outcome: 'failed'; readonly reason: string; readonly event?: WebhookEvent }
  | { readonly status: 200 | 500; readonly outcome: EventOutcome['outcome']; readonly event: WebhookEvent };

export function createWebhookService(deps: WebhookServiceDeps): WebhookService {
  const { telemetry, clock } = deps;

  async function judge(request: WebhookRequest): Promise<Verdict> {
    const body = request.body ?? '';
    const encoding = request.isBase64Encoded ? 'base64' : 'utf8';
    if (Buffer.byteLength(body, encoding) > deps.maxBodyBytes) {
      return { status: 413, outcome: 'too_large', reason: `body is larger than ${deps.maxBodyBytes} bytes` };
    }
    let secrets: readonly string[];
    try {
      secrets = await deps.secrets();
    } catch (error) {
      return { status: 500, outcome: 'failed', reason: `could not load the webhook signing secrets: ${describeError(error)}` };
    }
    let event: WebhookEvent;
    try {
      // A text body goes to the verifier as it came: turning it into bytes only for the verifier to decode them again costs time.
      const payload = request.isBase64Encoded ? Buffer.from(body, 'base64') : body;
      const verified = deps.verify(payload, headerValue(request.headers, 'stripe-signature'), secrets, clock());
      event = parseEvent(verified);
    } catch (error) {
      if (error instanceof SignatureRejectedError) return { status: 400, outcome: 'rejected', reason: error.message, signatureFailure: true };
      if (error instanceof NotAnEventError || error instanceof EventShapeError) return { status: 400, outcome: 'rejected', reason: error.message };
      throw error;
    }
    try {
      const result = await processEvent(event, deps);
      // A live claim elsewhere may still fail; only a non-2xx makes Stripe deliver again.
      return { status: result.outcome === 'in_progress' ? 500 : 200, outcome: result.outcome, event };
    } catch (error) {
      return { status: 500, outcome: 'failed', reason: describeError(error), event };
    }
  }

  function report(request: WebhookRequest, verdict: Verdict, latencyMs: number): void {
    const event = 'event' in verdict ? verdict.event : undefined;
    const fields = {
      requestId: request.requestId,
      eventId: event?.envelope.id,
      eventType: event?.envelope.type,
      outcome: verdict.outcome,
      statusCode: verdict.status,
      ...('reason' in verdict ? { reason: verdict.reason } : {}),
    };
    const apiVersion = event?.envelope.api_version;
    if (apiVersion && apiVersion !== PINNED_API_VERSION) {
      telemetry.log('warn', 'event was rendered with another API version than the one this handler is written for', {
        ...fields,
        apiVersion,
        pinnedApiVersion: PINNED_API_VERSION,
      });
    }
    telemetry.log(verdict.outcome === 'failed' ? 'error' : verdict.status === 200 ? 'info' : 'warn', MESSAGES[verdict.outcome], fields);
    telemetry.delivery({
      eventType: event?.envelope.type ?? 'none',
      outcome: verdict.outcome,
      latencyMs,
      signatureFailure: 'signatureFailure' in verdict && verdict.signatureFailure === true,
      duplicate: verdict.outcome === 'duplicate',
    });
  }

  return {
    async handleDelivery(request) {
      const started = performance.now();
      const verdict: Verdict = await judge(request).catch((error: unknown) => ({ status: 500, outcome: 'failed', reason: describeError(error) }) as const);
      report(request, verdict, performance.now() - started);
      // Any body but a 200's stays generic: the caller may not be Stripe, and a reason such as "none of the 2
      // configured secrets matches" tells a forger too much. The function's log has the reason.
      const answer = verdict.status === 200 ? { received: true, outcome: verdict.outcome } : { error: MESSAGES[verdict.outcome] };
      return { statusCode: verdict.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(answer) };
    },
    processEvent: (event) => processEvent(event, deps),
  };
}

const MESSAGES: Readonly<Record<Verdict['outcome'], string>> = {
  processed: 'webhook event processed',
  duplicate: 'webhook event already processed; duplicate delivery ignored',
  ignored: 'webhook event type not handled; acknowledged',
  in_progress: 'webhook event is being processed by another delivery; asking Stripe to retry',
  rejected: 'webhook delivery rejected',
  too_large: 'webhook delivery rejected: body too large',
  failed: 'webhook event failed; Stripe will retry',
};

function headerValue(headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  if (headers[name] !== undefined) return headers[name];
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}
