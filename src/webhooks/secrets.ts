/**
 * Webhook signing secrets, loaded from their store once per container and refreshed after `ttlMs`. The stored
 * value may hold several secrets (comma- or newline-separated) so that a secret can be rolled without downtime.
 */
export type SecretSource = () => Promise<readonly string[]>;

export class WebhookSecretError extends Error {
  override name = 'WebhookSecretError';
}

export function parseSecretList(text: string): string[] {
  const secrets = text
    .split(/[,\r\n]+/)
    .map((secret) => secret.trim())
    .filter((secret) => secret.length > 0);
  if (!secrets.length) {
    throw new WebhookSecretError('the webhook secret parameter holds no secret; store one or more whsec_... values, comma- or newline-separated');
  }
  return [...new Set(secrets)];
}

export function cachedSecrets(load: () => Promise<string>, ttlMs: number, clock: () => number = Date.now): SecretSource {
  let cached: { secrets: readonly string[]; loadedAt: number } | undefined;
  let loading: Promise<readonly string[]> | undefined;
  return async () => {
    if (cached && clock() - cached.loadedAt < ttlMs) return cached.secrets;
    // Concurrent callers in one container share a single load.
    loading ??= load()
      .then((text) => {
        cached = { secrets: parseSecretList(text), loadedAt: clock() };
        return cached.secrets;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };
}
