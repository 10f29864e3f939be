/** The message lists this many problems, then counts the rest: one annotation stays readable for any input. */
export const MAX_LISTED_PROBLEMS = 20;

/** A problem with what the user gave us (an input or the billing config). Raised before any side effect. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(problems.length === 1 ? problems[0] : listProblems(problems));
  }
}

function listProblems(problems: readonly string[]): string {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => `  - ${p}`);
  const rest = problems.length - listed.length;
  return [`${problems.length} problems:`, ...listed, ...(rest > 0 ? [`  …and ${rest} more`] : [])].join('\n');
}

/** An AWS or Stripe call that failed in a way the user can act on; `hint` says how. */
export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    message: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function describeError(error: unknown): string {
  if (error instanceof ServiceError) return `${error.message}. ${error.hint}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

const NETWORK_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'refused the connection',
  ENOTFOUND: 'does not resolve to an address',
  EAI_AGAIN: 'could not be resolved (DNS failed)',
  ETIMEDOUT: 'did not answer in time',
  ECONNRESET: 'dropped the connection',
  EHOSTUNREACH: 'is unreachable',
};

/**
 * A failure to reach an endpoint at all (no HTTP answer), as one line that names the endpoint and what to check;
 * undefined for any other error.
 */
export function describeNetworkFailure(error: unknown, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const { code, address, port, hostname } = (error ?? {}) as { code?: unknown; address?: unknown; port?: unknown; hostname?: unknown };
  if (typeof code !== 'string' || !(code in NETWORK_FAILURES)) return undefined;
  const endpoint =
    typeof address === 'string' ? `${address}${port === undefined ? '' : `:${String(port)}`}` : typeof hostname === 'string' ? hostname : 'an endpoint';
  const overrides = Object.entries(env)
    .filter(([name, value]) => /^AWS_ENDPOINT_URL(_\w+)?$/.test(name) && value)
    .map(([name, value]) => `${name}=${value}`);
  const fix = overrides.length
    ? `The endpoint comes from ${overrides.join(', ')}: start the emulator it names, or unset it to reach AWS`
    : 'Check the network and proxy settings of the runner, and AWS_REGION';
  return `Could not reach ${endpoint}: it ${NETWORK_FAILURES[code]} (${code}). ${fix}.`;
}
