import { describeError } from '../../src/errors.js';
import type { WebhookResponse, WebhookService } from '../../src/webhooks/service.js';
import { jsonTelemetry } from '../../src/webhooks/telemetry.js';
import { webhookServiceFromEnvironment } from './wiring.js';

/** The parts of an API Gateway HTTP API (payload format 2.0) request this handler reads. */
export interface HttpApiRequest {
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: { readonly requestId?: string };
}

let service: WebhookService | undefined;

/** POST /webhook from Stripe: one service per container, so secrets and clients are reused between deliveries. */
export async function handler(request: HttpApiRequest): Promise<WebhookResponse> {
  try {
    service ??= webhookServiceFromEnvironment();
  } catch (error) {
    jsonTelemetry().log('error', 'webhook handler is misconfigured; fix its environment', { reason: describeError(error) });
    return { statusCode: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: 'handler misconfigured' }) };
  }
  return service.handleDelivery({
    headers: request.headers ?? {},
    body: request.body,
    isBase64Encoded: request.isBase64Encoded === true,
    ...(request.requestContext?.requestId ? { requestId: request.requestContext.requestId } : {}),
  });
}
