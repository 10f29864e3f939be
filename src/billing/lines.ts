import type { Micros } from '../money.js';

/** One line of an itemized invoice, in integer minor units of the invoice's currency. */
export interface InvoiceLine {
  readonly description: string;
  readonly amountMinor: number;
}

/** A custom field shown on the invoice (Stripe: up to 4, name up to 40 characters, value up to 140). */
export interface InvoiceField {
  readonly name: string;
  readonly value: string;
}

/** Stripe refuses a 251st invoice item on an invoice. */
export const MAX_INVOICE_ITEMS = 250;
/** One item is kept for the line that gathers the services beyond the top ones. */
export const MAX_SERVICE_LINES = MAX_INVOICE_ITEMS - 1;
export const OTHER_SERVICES = 'Other AWS services';

export class LineAllocationError extends Error {
  override name = 'LineAllocationError';
}

/**
 * Splits an amount billed into lines by AWS service: the `serviceLines` services with the largest charge get a line
 * each, the rest one "Other AWS services" line. Each line's share follows the service's share of the charge, and
 * largest-remainder rounding in minor units makes the lines add up to `amountMinor` exactly. Services with no
 * positive charge carry no share; lines of 0 are left out. Without any positive service charge the amount is one
 * line described by `fallback`. Pure and deterministic: the same inputs give the same lines in the same order.
 */
export function allocateLines(
  amountMinor: number,
  serviceCharges: ReadonlyArray<{ readonly service: string; readonly amount: Micros }>,
  serviceLines: number,
  fallback: string,
): InvoiceLine[] {
  if (!Number.isSafeInteger(amountMinor) || amountMinor < 0) {
    throw new LineAllocationError(`amount ${amountMinor} cannot be itemized: expected a whole, non-negative number of minor units`);
  }
  if (!Number.isInteger(serviceLines) || serviceLines < 1 || serviceLines > MAX_SERVICE_LINES) {
    throw new LineAllocationError(`serviceLines is ${serviceLines}; expected a whole number from 1 to ${MAX_SERVICE_LINES}`);
  }
  const ranked = serviceCharges
    .filter((line) => line.amount > 0)
    .sort((a, b) => b.amount - a.amount || (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  if (ranked.length === 0) return amountMinor === 0 ? [] : [{ description: fallback, amountMinor }];
  const top = ranked.slice(0, serviceLines).map((line) => ({ description: line.service, weight: line.amount }));
  const rest = ranked.slice(serviceLines);
  const groups = rest.length === 0 ? top : [...top, { description: OTHER_SERVICES, weight: rest.reduce((total, line) => total + line.amount, 0) }];
  const amounts = largestRemainder(
    amountMinor,
    groups.map((group) => group.weight),
  );
  return groups.map((group, index) => ({ description: group.description, amountMinor: amounts[index] ?? 0 })).filter((line) => line.amountMinor !== 0);
}

/**
 * Hamilton's method: each share is floored, then the units left over go one each to the largest remainders (the
 * earlier weight first on a tie). The shares add up to `total`, and each is within one unit of its exact value.
 */
export function largestRemainder(total: number, weights: readonly Micros[]): number[] {
  const sum = weights.reduce((acc, weight) => acc + BigInt(weight), 0n);
  if (sum <= 0n) throw new LineAllocationError('cannot share an amount by weights that add up to 0 or less');
  const exact = weights.map((weight, index) => {
    const numerator = BigInt(total) * BigInt(weight);
    return { index, floor: numerator / sum, remainder: numerator % sum };
  });
  let left = BigInt(total) - exact.reduce((acc, share) => acc + share.floor, 0n);
  const byRemainder = [...exact].sort((a, b) => (b.remainder > a.remainder ? 1 : b.remainder < a.remainder ? -1 : a.index - b.index));
  const extra = new Set<number>();
  for (const share of byRemainder) {
    if (left <= 0n) break;
    extra.add(share.index);
    left -= 1n;
  }
  return exact.map((share) => Number(share.floor) + (extra.has(share.index) ? 1 : 0));
}
