/**
 * One schema error of the generated validator, worded for the person editing the file: where (the path) and what is
 * expected there. The validator runs verbose, so each error carries the schema it broke (its parentSchema): the
 * message names what is wanted (a duration, one of the allowed values) rather than the JSON type, and an unknown
 * key is compared with the keys the schema has at that place.
 */
import type { ErrorObject } from 'ajv';
import { FORMAT_HINTS } from './formats.js';

export interface SchemaProblem {
  path: (string | number)[];
  message: string;
}

/** What a string with a `title` and a pattern must look like, said where the pattern alone would not tell. */
const PATTERN_HINTS: Record<string, string> = {
  'header name': "is not a header name: letters, digits and !#$%&'*+.^_`|~- only",
  'header value': 'holds a control character (such as a line break), which a header value cannot',
  path: 'must start with / and hold no space, control character, ? or # (a route matches the path without its query)',
  'request path': 'must start with / and hold no space, control character or #',
};

interface SchemaNode {
  title?: string;
  format?: keyof typeof FORMAT_HINTS;
  properties?: Record<string, unknown>;
  anyOf?: SchemaNode[];
  const?: unknown;
  type?: string;
}

export function schemaProblem(error: ErrorObject): SchemaProblem {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
  const schema = (error.parentSchema ?? {}) as SchemaNode;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      return { path: [...path, key], message: unknownKey(key, Object.keys(schema.properties ?? {})) };
    }
    case 'required':
      return { path: [...path, String((error.params as { missingProperty: string }).missingProperty)], message: 'is required' };
    case 'format':
    case 'type':
      return { path, message: (schema.format && FORMAT_HINTS[schema.format]) ?? error.message ?? 'is invalid' };
    case 'anyOf':
      return { path, message: unionHint(schema, error.data) };
    case 'pattern':
      return { path, message: (schema.title && PATTERN_HINTS[schema.title]) ?? 'has characters that are not allowed here' };
    case 'propertyNames': {
      const key = String((error.params as { propertyName: string }).propertyName);
      const names = (schema as { propertyNames?: SchemaNode }).propertyNames;
      return { path: [...path, key], message: (names?.title && PATTERN_HINTS[names.title]) ?? 'is not a key allowed here' };
    }
    default:
      return { path, message: error.message ?? 'is invalid' };
  }
}

/** The allowed values of a union: its literals (the nearest one to a mistyped value), a status code, a size. */
function unionHint(schema: SchemaNode, value: unknown): string {
  const branches = schema.anyOf ?? [];
  const format = branches.find((b) => b.format !== undefined)?.format;
  if (format) return FORMAT_HINTS[format];
  const names = branches.flatMap((b) => (typeof b.const === 'string' ? [b.const] : []));
  const typo = typeof value === 'string' ? nearest(value, names) : undefined;
  if (typo !== undefined) return `unknown value "${value}"; did you mean \`${typo}\`?`;
  const literals = branches.filter((b) => b.const !== undefined).map((b) => JSON.stringify(b.const));
  const others = branches.filter((b) => b.const === undefined).map((b) => (b.type === 'integer' ? 'a status code' : b.type));
  return literals.length + others.length > 0 ? `must be one of ${[...literals, ...others].join(', ')}` : 'is not one of the allowed values';
}

/** A key within this distance of a known one is taken for a typo of it: one or two slips, fewer in a short key. */
const maxTypoDistance = (key: string) => (key.length <= 4 ? 1 : 2);

/** The candidate `word` is most likely a typo of, if any is close enough. */
function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best !== undefined && bestDistance <= maxTypoDistance(best) ? best : undefined;
}

function unknownKey(key: string, known: string[]): string {
  const best = nearest(key, known);
  if (best !== undefined) return `unknown key; did you mean \`${best}\`?`;
  return known.length > 0 ? `unknown key; the keys here are ${known.join(', ')}` : 'unknown key';
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of two neighbours cost 1 each. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
