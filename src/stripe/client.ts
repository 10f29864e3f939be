import Stripe from 'stripe';
import { ConfigError } from '../errors.js';

export interface StripeClientOptions {
  readonly host?: string;
  readonly port?: number;
  readonly protocol?: 'http' | 'https';
  readonly timeoutMs?: number;
  /** stripe-node's own retries; 0 by default because billing retries itself. Reads (listing events) may use them. */
  readonly networkRetries?: number;
}

/**
 * The one Stripe client factory. The API version is the one the `stripe` package pins (no override), so payload
 * shapes change only with a deliberate upgrade of the package. Retries are left to the billing adapter
 * (src/stripe/billing.ts), which backs off on 429 as well and keeps the idempotency keys.
 *
 * Testing hook: STRIPE_API_BASE=http://127.0.0.1:PORT sends every call to a local Stripe test server (explicit
 * options win). Production never sets it.
 */
export function createStripe(secretKey: string, options: StripeClientOptions = {}): Stripe {
  const base = apiBaseFromEnv();
  return new Stripe(secretKey, {
    maxNetworkRetries: options.networkRetries ?? 0,
    timeout: options.timeoutMs ?? 30_000,
    appInfo: { name: 'aws-stripe-billing-actions' },
    ...base,
    ...(options.host ? { host: options.host } : {}),
    ...(options.port ? { port: options.port } : {}),
    ...(options.protocol ? { protocol: options.protocol } : {}),
  });
}

/** Test and restricted test keys: Stripe allows 25 requests/s for them, 100/s for live keys. */
export function isLiveKey(secretKey: string): boolean {
  return /^(sk|rk)_live_/.test(secretKey);
}

function apiBaseFromEnv(): { host?: string; port?: number; protocol?: 'http' | 'https' } {
  const text = process.env.STRIPE_API_BASE;
  if (!text) return {};
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError([`STRIPE_API_BASE "${text}" is not a URL; expected the base of a Stripe test server such as http://127.0.0.1:12111, or unset it`]);
  }
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: Number(url.port || (protocol === 'http' ? 80 : 443)), protocol };
}
