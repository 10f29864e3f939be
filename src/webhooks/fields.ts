/**
 * Reading untrusted JSON field by field, with errors that name the path and the expected form. Written by hand
 * instead of with zod because zod alone would add about 450 KiB and tens of milliseconds to the Lambda's cold start.
 */
export class FieldError extends Error {
  override name = 'FieldError';
}

export type Fields = Readonly<Record<string, unknown>>;

export function objectAt(value: unknown, path: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FieldError(`${path}: expected an object`);
  return value as Fields;
}

export function arrayAt(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new FieldError(`${path}: expected a list`);
  return value;
}

export function text(fields: Fields, key: string, path: string, pattern?: RegExp, example?: string): string {
  const value = fields[key];
  if (typeof value !== 'string') throw new FieldError(`${path}.${key}: expected a string`);
  if (pattern && !pattern.test(value)) throw new FieldError(`${path}.${key}: expected ${example ?? `a value matching ${pattern}`}`);
  return value;
}

export function optionalText(fields: Fields, key: string, path: string): string | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new FieldError(`${path}.${key}: expected a string or null`);
  return value;
}

export function integer(fields: Fields, key: string, path: string): number {
  const value = fields[key];
  if (!Number.isSafeInteger(value)) throw new FieldError(`${path}.${key}: expected a whole number`);
  return value as number;
}

export function optionalInteger(fields: Fields, key: string, path: string): number | null {
  return fields[key] === undefined || fields[key] === null ? null : integer(fields, key, path);
}

export function flag(fields: Fields, key: string, path: string): boolean {
  const value = fields[key];
  if (typeof value !== 'boolean') throw new FieldError(`${path}.${key}: expected true or false`);
  return value;
}

/** A Stripe reference that is either an id or the expanded object. */
export function reference(fields: Fields, key: string, path: string): string {
  const value = fields[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as Fields).id === 'string') return (value as Fields).id as string;
  throw new FieldError(`${path}.${key}: expected an id or an object with an id`);
}

export function stringMap(fields: Fields, key: string, path: string): Readonly<Record<string, string>> | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  const map = objectAt(value, `${path}.${key}`);
  for (const [name, entry] of Object.entries(map)) {
    if (typeof entry !== 'string') throw new FieldError(`${path}.${key}.${name}: expected a string`);
  }
  return map as Readonly<Record<string, string>>;
}
