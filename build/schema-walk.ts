/** The policy schema as plain JSON Schema, and what the generators ask of each key. */
import { PolicyFileSchema, type Normalized } from '../proxy/config/schema.js';

export interface JsonSchema {
  type?: string;
  /** A short name of the value's kind (path, host name), for the README. */
  title?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  minLength?: number;
  maxLength?: number;
  'x-normalized'?: Normalized;
  /** Durations (Ms) and sizes (Bytes): the normalized key is a number with this suffix. */
  'x-unit'?: 'Ms' | 'Bytes';
}

/** A fresh copy each call: callers may transform it. */
export function policySchema(): JsonSchema {
  return JSON.parse(JSON.stringify(PolicyFileSchema)) as JsonSchema;
}

export interface Property {
  key: string;
  schema: JsonSchema;
  /** Required in the file. */
  required: boolean;
}

export function properties(schema: JsonSchema): Property[] {
  return Object.entries(schema.properties ?? {}).map(([key, value]) => ({ key, schema: value, required: schema.required?.includes(key) ?? false }));
}

/** An object with named keys (a section of the file), not a map such as headers. */
export const isSection = (schema: JsonSchema): boolean => schema.type === 'object' && schema.properties !== undefined;

/** The section a key holds, directly or as the items of a list (listeners, routes, upstreams). */
export function sectionOf(schema: JsonSchema): JsonSchema | undefined {
  if (isSection(schema)) return schema;
  if (schema.type === 'array' && schema.items && isSection(schema.items)) return schema.items;
  return undefined;
}

export function normalizedName(property: Property): string {
  return property.schema['x-normalized']?.name ?? `${property.key}${property.schema['x-unit'] ?? ''}`;
}

export function isOmitted(property: Property): boolean {
  return property.schema['x-normalized']?.omit === true;
}

export type Transform = (node: JsonSchema) => JsonSchema;

/** A copy of the schema with every node rewritten by `transform`, each before its children. */
export function mapSchema(node: JsonSchema, transform: Transform): JsonSchema {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(transform(node))) {
    if (key === 'properties' || key === 'patternProperties') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, mapSchema(v, transform)]));
    } else if (key === 'items') out[key] = mapSchema(value as JsonSchema, transform);
    else if (key === 'anyOf') out[key] = (value as JsonSchema[]).map((v) => mapSchema(v, transform));
    else out[key] = value;
  }
  return out as JsonSchema;
}
