/**
 * `npm run generate`: every file derived from the policy schema (proxy/config/schema.ts) and the outcome table
 * (proxy/core/outcome.ts). test/proxy/config/generated.test.ts fails while a committed one differs from what this
 * writes now. Run from the repository root.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { publishedSchema, withChartPolicySchema } from './json-schema.js';
import { withOutcomeTable } from './outcome-table.js';
import { policyDefaultsSource } from './policy-defaults.js';
import { withPolicyReference, withPolicySections } from './policy-reference.js';
import { policyTypesSource } from './policy-types.js';
import { policyValidatorDeclarations, policyValidatorSource } from './policy-validator.js';

export interface Artifact {
  /** Relative to the repository root. */
  path: string;
  content: string;
}

export function generatedArtifacts(root: string): Artifact[] {
  const read = (path: string) => readFileSync(join(root, path), 'utf8');
  return [
    { path: 'proxy/config/generated/policy-validator.js', content: policyValidatorSource() },
    { path: 'proxy/config/generated/policy-validator.d.ts', content: policyValidatorDeclarations() },
    { path: 'proxy/config/generated/policy-types.ts', content: policyTypesSource() },
    { path: 'proxy/config/generated/policy-defaults.ts', content: policyDefaultsSource() },
    { path: 'schema/breakwater-policy.schema.json', content: `${JSON.stringify(publishedSchema(), null, 2)}\n` },
    { path: 'charts/breakwater/values.schema.json', content: withChartPolicySchema(read('charts/breakwater/values.schema.json')) },
    { path: 'README.md', content: withPolicySections(read('README.md')) },
    { path: 'docs/policy.md', content: withPolicyReference(read('docs/policy.md')) },
    { path: 'docs/outcomes.md', content: withOutcomeTable(read('docs/outcomes.md')) },
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = process.cwd();
  for (const { path, content } of generatedArtifacts(root)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}
