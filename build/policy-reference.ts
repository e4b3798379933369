/**
 * The policy reference, from the schema: every key (dotted path, type, default, description) for docs/policy.md, and
 * one row per section (the objects and lists of objects) for the README, each written by `npm run generate` between
 * its markers.
 */
import { replaceBetween } from './markers.js';
import { policySchema, properties, sectionOf, type JsonSchema } from './schema-walk.js';

export const REFERENCE_START = '<!-- policy-reference:start (generated from the policy schema by npm run generate) -->';
export const REFERENCE_END = '<!-- policy-reference:end -->';
export const SECTIONS_START = '<!-- policy-sections:start (generated from the policy schema by npm run generate) -->';
export const SECTIONS_END = '<!-- policy-sections:end -->';

const FORMATS: Record<string, string> = {
  address: 'host:port',
  endpoint: 'host:port or URL',
  authority: 'host[:port]',
  durationOrPercentile: 'duration or percentile',
};

const code = (value: unknown) => `\`${Array.isArray(value) ? `[${value.join(', ')}]` : String(value)}\``;

function range(schema: JsonSchema): string {
  const { minimum: min, maximum: max } = schema;
  if (min !== undefined && max !== undefined) return ` ${min}–${max}`;
  return min === undefined ? '' : ` ≥ ${min}`;
}

function typeText(schema: JsonSchema): string {
  if (schema.title) return schema.title;
  if (schema['x-unit'] === 'Ms') return schema.format === 'positiveDuration' ? 'duration > 0' : 'duration';
  if (schema['x-unit'] === 'Bytes') return 'size';
  if (schema.format) return FORMATS[schema.format] ?? schema.format;
  if (schema.anyOf) return schema.anyOf.map((branch) => (branch.const !== undefined ? code(branch.const) : 'status code')).join(' \\| ');
  switch (schema.type) {
    case 'array':
      return `list of ${sectionOf(schema) ? 'objects' : typeText(schema.items ?? {})}`;
    case 'object':
      return schema.properties ? 'object' : 'map of strings';
    case 'integer':
    case 'number':
      return `${schema.type}${range(schema)}`;
    case undefined:
      return 'any';
    default:
      return schema.type;
  }
}

function rows(section: JsonSchema, prefix: string): string[] {
  return properties(section).flatMap((property) => {
    const { key, schema } = property;
    const path = `${prefix}${key}`;
    const fallback = property.required ? 'required' : '';
    const cells = [code(path), typeText(schema), schema.default === undefined ? fallback : code(schema.default), (schema.description ?? '').replaceAll('|', '\\|')];
    const inner = sectionOf(schema);
    const childPrefix = schema.type === 'array' ? `${path}[].` : `${path}.`;
    return [`| ${cells.join(' | ')} |`, ...(inner ? rows(inner, childPrefix) : [])];
  });
}

export function policyReferenceMarkdown(): string {
  return ['| key | type | default | description |', '|---|---|---|---|', ...rows(policySchema(), '')].join('\n');
}

function sectionRows(section: JsonSchema, prefix: string): string[] {
  return properties(section).flatMap(({ key, schema }) => {
    const inner = sectionOf(schema);
    if (!inner) return [];
    const path = `${prefix}${key}`;
    const childPrefix = schema.type === 'array' ? `${path}[].` : `${path}.`;
    const keys = properties(inner).map((p) => code(p.key)).join(' ');
    return [`| ${code(path)} | ${(schema.description ?? '').replaceAll('|', '\\|')} | ${keys} |`, ...sectionRows(inner, childPrefix)];
  });
}

/** The sections of the policy and the keys each holds: the README's map of the full reference. */
export function policySectionsMarkdown(): string {
  return ['| section | what it sets | keys |', '|---|---|---|', ...sectionRows(policySchema(), '')].join('\n');
}

export function withPolicyReference(doc: string): string {
  return replaceBetween(doc, REFERENCE_START, REFERENCE_END, policyReferenceMarkdown());
}

export function withPolicySections(readme: string): string {
  return replaceBetween(readme, SECTIONS_START, SECTIONS_END, policySectionsMarkdown());
}
