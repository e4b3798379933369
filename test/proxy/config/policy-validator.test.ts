/**
 * proxy/config/generated/policy-validator.js is generated from the schema and formats.ts and committed, so that
 * checking a policy needs neither ajv's compiler nor TypeBox. A schema change without `npm run generate` must fail here,
 * not ship a validator that checks the old schema.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { policyValidatorDeclarations, policyValidatorSource } from '../../../build/policy-validator.js';

const committed = (file: string) => readFileSync(new URL(`../../../proxy/config/generated/${file}`, import.meta.url), 'utf8');

t.test('the committed policy validator is what the schema generates now', async (t) => {
  const fresh = policyValidatorSource();
  t.ok(fresh.includes('export const validatePolicyFile'), 'the generator exports validatePolicyFile');
  t.ok(committed('policy-validator.js') === fresh, 'proxy/config/generated/policy-validator.js is stale: run `npm run generate` and commit the file');
  t.ok(committed('policy-validator.d.ts') === policyValidatorDeclarations(), 'proxy/config/generated/policy-validator.d.ts is stale: run `npm run generate`');
});
