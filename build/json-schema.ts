/**
 * The policy schema for tools other than the proxy: the published JSON Schema (schema/breakwater-policy.schema.json,
 * which editors use through the example policies' `# yaml-language-server: $schema=` line) and the policy part of the
 * Helm chart's values.schema.json. Editors know no custom formats, so each format becomes its pattern.
 */
import { FORMAT_PATTERNS } from '../proxy/config/formats.js';
import { mapSchema, policySchema, type Transform } from './schema-walk.js';

/** Annotations for the generators only, and formats as patterns. */
const portable: Transform = (node) => {
  const { 'x-normalized': _normalized, 'x-unit': _unit, format, ...rest } = node;
  return format === undefined ? rest : { ...rest, pattern: FORMAT_PATTERNS[format as keyof typeof FORMAT_PATTERNS] };
};

export function publishedSchema(): object {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Breakwater policy',
    ...mapSchema(policySchema(), portable),
  };
}

/** Patterns a value rendered with tpl still meets; others (names, addresses) may be templates until rendered. */
const KEPT_IN_CHART = new Set([FORMAT_PATTERNS.duration, FORMAT_PATTERNS.size, FORMAT_PATTERNS.durationOrPercentile]);

const chartValue: Transform = (node) => {
  const { pattern, ...rest } = portable(node);
  return pattern !== undefined && KEPT_IN_CHART.has(pattern) ? { ...rest, pattern } : rest;
};

export const CHART_POLICY_DESCRIPTION =
  "The sidecar's policy (rendered with tpl). Generated from the policy schema by npm run generate; checked in depth by `breakwater validate`.";

/** values.schema.json with its breakwater.policy part replaced by the policy schema. */
export function withChartPolicySchema(valuesSchemaText: string): string {
  const values = JSON.parse(valuesSchemaText) as { properties: { breakwater: { properties: Record<string, unknown> } } };
  const policy = mapSchema(policySchema(), chartValue);
  values.properties.breakwater.properties.policy = { ...policy, description: CHART_POLICY_DESCRIPTION };
  return `${JSON.stringify(values, null, 2)}\n`;
}
