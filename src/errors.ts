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
