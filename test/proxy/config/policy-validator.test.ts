/**
 * proxy/config/policy-validator.ts is generated from schema.ts and formats.ts and committed, so that checking a
 * policy needs neither ajv's compiler nor TypeBox. A schema change without `npm run generate` must fail here, not
 * ship a validator that checks the old schema.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { policyValidatorSource } from '../../../proxy/config/generate-validator.js';

const COMMITTED = new URL('../../../proxy/config/policy-validator.ts', import.meta.url);

t.test('the committed policy validator is what the schema generates now', async (t) => {
  const fresh = policyValidatorSource();
  t.ok(fresh.includes('export const validatePolicyFile'), 'the generator exports validatePolicyFile');
  t.ok(
    readFileSync(COMMITTED, 'utf8') === fresh,
    'proxy/config/policy-validator.ts is stale: run `npm run generate` and commit the file',
  );
});
