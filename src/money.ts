/**
 * One money type for the whole project: integer micro-units (1 unit = 1,000,000 micros) held in a safe integer.
 * Cost Explorer amounts arrive as decimal strings with up to ~10 decimals; summing them as floats drifts, summing
 * micros does not. Conversions to Stripe's minor units happen once, at the edge, with one rounding rule:
 * half away from zero.
 */
export type Micros = number;

export const MICROS_PER_UNIT = 1_000_000;

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

export class MoneyError extends Error {
  override name = 'MoneyError';
}

/** Parses a decimal string ("12.3456789") into micros, rounding half away from zero at the 6th decimal. */
export function parseAmount(text: string): Micros {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new MoneyError(`amount "${text}" is not a decimal number such as "12.34"`);
  const [, sign, whole = '0', fraction = ''] = match;
  const kept = BigInt(whole + fraction.slice(0, 6).padEnd(6, '0'));
  const roundUp = (fraction[6] ?? '0') >= '5' ? 1n : 0n;
  const magnitude = kept + roundUp;
  return checked(sign === '-' ? -magnitude : magnitude, text);
}

/** Micros from a configured number such as 800 or 12.5 (config values, never Cost Explorer data). */
export function fromUnits(units: number): Micros {
  if (!Number.isFinite(units)) throw new MoneyError(`amount ${units} is not a finite number`);
  return parseAmount(units.toFixed(6));
}

export function sum(amounts: Iterable<Micros>): Micros {
  let total = 0;
  for (const amount of amounts) total += amount;
  return checked(BigInt(total), 'sum');
}

/** amount × numerator / denominator, rounded half away from zero, without intermediate overflow. */
export function scale(amount: Micros, numerator: number | bigint, denominator: number | bigint): Micros {
  const den = BigInt(denominator);
  if (den === 0n) throw new MoneyError('cannot scale an amount by a zero denominator');
  return checked(divideRounded(BigInt(amount) * BigInt(numerator), den), 'scaled amount');
}

/** Applies a markup given in percent (10 = +10 %, 12.5 allowed) with the project's single rounding rule. */
export function applyMarkup(amount: Micros, markupPercent: number): Micros {
  const basisPoints = Math.round(markupPercent * 100);
  return scale(amount, 10_000 + basisPoints, 10_000);
}

/** Currencies Stripe treats as having no minor unit (docs.stripe.com/currencies#zero-decimal). */
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);

export function minorUnitsPerUnit(currency: string): number {
  return ZERO_DECIMAL.has(currency.toLowerCase()) ? 1 : 100;
}

/** Stripe's integer amount for a currency ("usd" cents, "jpy" yen), rounded half away from zero. */
export function toMinorUnits(amount: Micros, currency: string): number {
  return Number(divideRounded(BigInt(amount), BigInt(MICROS_PER_UNIT / minorUnitsPerUnit(currency))));
}

export function fromMinorUnits(minor: number, currency: string): Micros {
  return checked(BigInt(minor) * BigInt(MICROS_PER_UNIT / minorUnitsPerUnit(currency)), 'minor units');
}

/** Exact decimal string of an amount ("1234.5" -> "1234.500000"). */
export function toDecimalString(amount: Micros): string {
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  const whole = Math.trunc(abs / MICROS_PER_UNIT);
  const fraction = String(abs % MICROS_PER_UNIT).padStart(6, '0');
  return `${sign}${whole}.${fraction}`;
}

/** Human form with two decimals and thousands separators: "$1,234.57" for usd, "1,234.57 EUR" otherwise. */
export function formatMoney(amount: Micros, currency: string): string {
  const decimals = minorUnitsPerUnit(currency) === 1 ? 0 : 2;
  const minor = toMinorUnits(amount, decimals === 0 ? 'jpy' : 'usd');
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  const whole = decimals === 0 ? abs : Math.trunc(abs / 100);
  const grouped = String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const text = decimals === 0 ? grouped : `${grouped}.${String(abs % 100).padStart(2, '0')}`;
  return currency.toLowerCase() === 'usd' ? `${sign}$${text}` : `${sign}${text} ${currency.toUpperCase()}`;
}

/** Amount as a number of units, for charts and JSON outputs meant for people; never fed back into arithmetic. */
export function toUnits(amount: Micros): number {
  return amount / MICROS_PER_UNIT;
}

function divideRounded(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const quotient = (n + d / 2n) / d;
  return negative ? -quotient : quotient;
}

function checked(value: bigint, what: string): Micros {
  const result = Number(value);
  if (!Number.isSafeInteger(result)) throw new MoneyError(`${what} is too large to hold exactly (${value} micros)`);
  return result;
}
