import { readFileSync } from 'node:fs';
import { parse, type CollectionTag, type ScalarTag, type YAMLMap, type YAMLSeq } from 'yaml';

type ParsedCollection = YAMLMap.Parsed | YAMLSeq.Parsed;

/**
 * CloudFormation templates as plain data for tests: the YAML short-form tags (`!Ref`, `!Sub`, ...) become the
 * long form (`{ Ref: ... }`, `{ 'Fn::Sub': ... }`), so the same object can be inspected or sent as JSON.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
  Condition?: string;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Metadata?: Record<string, Json>;
}

export interface Template {
  Parameters?: Record<string, Record<string, Json>>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: Json; Description?: string }>;
  [section: string]: unknown;
}

const FUNCTIONS = [
  'Sub',
  'GetAtt',
  'If',
  'Equals',
  'Join',
  'Select',
  'Split',
  'Not',
  'And',
  'Or',
  'FindInMap',
  'ImportValue',
  'GetAZs',
  'Base64',
  'Cidr',
] as const;

function longForm(tag: string, value: unknown): Json {
  if (tag === 'Ref') return { Ref: value as string };
  if (tag === 'Condition') return { Condition: value as string };
  if (tag === 'GetAtt' && typeof value === 'string') {
    const dot = value.indexOf('.');
    return { 'Fn::GetAtt': [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [`Fn::${tag}`]: value as Json };
}

const CLOUDFORMATION_TAGS: Array<ScalarTag | CollectionTag> = ['Ref', 'Condition', ...FUNCTIONS].flatMap((name) => [
  { tag: `!${name}`, resolve: (value: string) => longForm(name, value) } satisfies ScalarTag,
  { tag: `!${name}`, collection: 'seq', resolve: (value: ParsedCollection) => longForm(name, value.toJSON()) } satisfies CollectionTag,
  { tag: `!${name}`, collection: 'map', resolve: (value: ParsedCollection) => longForm(name, value.toJSON()) } satisfies CollectionTag,
]);

export function parseTemplate(text: string): Template {
  return parse(text, { customTags: CLOUDFORMATION_TAGS, uniqueKeys: true }) as Template;
}

export function loadTemplate(path: string): Template {
  return parseTemplate(readFileSync(path, 'utf8'));
}

/** Logical ids a node refers to through Ref, Fn::GetAtt, Fn::Sub placeholders or DependsOn (pseudo parameters excluded). */
export function referencedIds(node: unknown): Set<string> {
  const ids = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') ids.add(inner);
      else if (key === 'Fn::GetAtt' && Array.isArray(inner)) ids.add(String(inner[0]));
      else if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(inner) ? [inner[0], inner[1] as Record<string, unknown>] : [inner, {}];
        for (const match of String(text).matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) {
          if (!(match[1]! in variables)) ids.add(match[1]!);
        }
        visit(variables);
        continue;
      } else if (key === 'DependsOn') [inner].flat().forEach((id) => ids.add(String(id)));
      visit(inner);
    }
  };
  visit(node);
  for (const id of [...ids]) if (id.startsWith('AWS::')) ids.delete(id);
  return ids;
}

/**
 * A copy of the template without the resources `remove` selects, nor the resources and outputs that depend on them
 * (transitively). Used to give an emulator only what it implements.
 */
export function withoutResources(template: Template, remove: (id: string, resource: Resource) => boolean): Template {
  const removed = new Set(
    Object.entries(template.Resources)
      .filter(([id, r]) => remove(id, r))
      .map(([id]) => id),
  );
  let grew = true;
  while (grew) {
    grew = false;
    for (const [id, resource] of Object.entries(template.Resources)) {
      if (removed.has(id)) continue;
      if ([...referencedIds(resource)].some((ref) => removed.has(ref))) {
        removed.add(id);
        grew = true;
      }
    }
  }
  const keep = <T>(entries: Record<string, T>) =>
    Object.fromEntries(Object.entries(entries).filter(([id, value]) => !removed.has(id) && ![...referencedIds(value)].some((ref) => removed.has(ref))));
  return { ...template, Resources: keep(template.Resources), Outputs: keep(template.Outputs ?? {}) };
}

/** Every IAM policy statement in the template: inline role policies, managed policies and trust policies. */
export interface PolicyStatement {
  readonly resource: string;
  readonly kind: 'trust' | 'permissions';
  readonly statement: Record<string, Json>;
}

export function policyStatements(template: Template): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  const add = (resource: string, kind: PolicyStatement['kind'], document: Json | undefined) => {
    const list = (document as { Statement?: Json } | undefined)?.Statement;
    for (const statement of [list ?? []].flat()) statements.push({ resource, kind, statement: statement as Record<string, Json> });
  };
  for (const [id, resource] of Object.entries(template.Resources)) {
    const properties = resource.Properties ?? {};
    if (resource.Type === 'AWS::IAM::Role') {
      add(id, 'trust', properties.AssumeRolePolicyDocument);
      for (const policy of (properties.Policies as Array<{ PolicyDocument: Json }> | undefined) ?? []) add(id, 'permissions', policy.PolicyDocument);
    }
    if (resource.Type === 'AWS::IAM::ManagedPolicy' || resource.Type === 'AWS::IAM::RolePolicy') add(id, 'permissions', properties.PolicyDocument);
  }
  return statements;
}

/** Values of a policy element that may be a string, a list, or an Fn::If between lists (both branches). */
export function flattenValues(value: Json | undefined): Json[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap(flattenValues);
  if (value !== null && typeof value === 'object' && 'Fn::If' in value) {
    const [, whenTrue, whenFalse] = value['Fn::If'] as Json[];
    return [...flattenValues(whenTrue), ...flattenValues(whenFalse)];
  }
  return [value];
}

/**
 * The template as CloudFormation would deploy it with `parameters` (defaults fill the rest): conditions evaluated,
 * resources and outputs whose condition is false dropped, every Fn::If replaced by its chosen branch and
 * AWS::NoValue removed. Only the condition functions the project's templates use are understood.
 */
export function resolveVariant(template: Template, parameters: Record<string, string>): Template {
  const value = (name: string): Json => {
    if (name in parameters) return parameters[name]!;
    const fallback = template.Parameters?.[name]?.Default;
    if (fallback === undefined) throw new Error(`parameter ${name} has no value and no default`);
    return String(fallback);
  };
  const cache = new Map<string, boolean>();
  const evaluate = (node: Json): boolean | Json => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
    if ('Ref' in node) return value(String(node.Ref));
    if ('Condition' in node) return condition(String(node.Condition));
    const [[fn, args]] = Object.entries(node) as [[string, Json[]]];
    if (fn === 'Fn::Equals') return String(evaluate(args[0]!)) === String(evaluate(args[1]!));
    if (fn === 'Fn::Not') return !evaluate(args[0]!);
    if (fn === 'Fn::And') return args.every((arg) => evaluate(arg) === true);
    if (fn === 'Fn::Or') return args.some((arg) => evaluate(arg) === true);
    throw new Error(`condition function ${fn} is not understood`);
  };
  const condition = (name: string): boolean => {
    if (!cache.has(name)) {
      const definition = template.Conditions?.[name];
      if (definition === undefined) throw new Error(`condition ${name} is not defined`);
      cache.set(name, evaluate(definition) === true);
    }
    return cache.get(name)!;
  };
  const NO_VALUE = Symbol('AWS::NoValue');
  const resolve = (node: Json): Json | typeof NO_VALUE => {
    if (Array.isArray(node)) return node.map(resolve).filter((item): item is Json => item !== NO_VALUE);
    if (node === null || typeof node !== 'object') return node;
    if ('Fn::If' in node) {
      const [name, whenTrue, whenFalse] = node['Fn::If'] as [string, Json, Json];
      return resolve(condition(name) ? whenTrue : whenFalse);
    }
    if (node.Ref === 'AWS::NoValue') return NO_VALUE;
    const entries = Object.entries(node).map(([key, inner]) => [key, resolve(inner)] as const);
    return Object.fromEntries(entries.filter((entry): entry is readonly [string, Json] => entry[1] !== NO_VALUE));
  };
  const kept = <T extends { Condition?: string }>(entries: Record<string, T>) =>
    Object.fromEntries(
      Object.entries(entries)
        .filter(([, entry]) => entry.Condition === undefined || condition(entry.Condition))
        .map(([id, entry]) => [id, resolve(entry as unknown as Json) as unknown as T]),
    );
  return {
    ...template,
    Resources: kept(template.Resources),
    Outputs: kept((template.Outputs ?? {}) as Record<string, { Value: Json; Description?: string; Condition?: string }>),
  };
}
