/**
 * Everything derived from the policy schema is committed; a schema change without `npm run generate` fails here rather
 * than shipping types, defaults, docs or schemas that describe the old policy. (The validator has its own test,
 * test/proxy/config/policy-validator.test.ts.)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import t from 'tap';
import { parse } from 'yaml';
import { generatedArtifacts } from '../../../build/generate.js';
import { policySchema, properties, sectionOf, type JsonSchema } from '../../../build/schema-walk.js';
import { policyFormats } from '../../../proxy/config/formats.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(new URL(path, `file://${root}`), 'utf8');

t.test('every file generated from the schema is what it generates now', async (t) => {
  const artifacts = generatedArtifacts(root).filter((a) => !a.path.includes('policy-validator'));
  t.same(
    artifacts.map((a) => a.path),
    [
      'proxy/config/generated/policy-types.ts',
      'proxy/config/generated/policy-defaults.ts',
      'schema/breakwater-policy.schema.json',
      'charts/breakwater/values.schema.json',
      'README.md',
      'docs/policy.md',
      'docs/outcomes.md',
    ],
  );
  for (const { path, content } of artifacts) t.ok(read(path) === content, `${path} is stale: run \`npm run generate\` and commit it`);
});

t.test('every key of the schema has a description, and every default is a valid value of its key', async (t) => {
  const ajv = new Ajv({ strict: false });
  for (const [name, check] of Object.entries(policyFormats)) ajv.addFormat(name, check);
  const visit = (section: JsonSchema, prefix: string) => {
    for (const { key, schema } of properties(section)) {
      const path = `${prefix}${key}`;
      t.ok(schema.description, `${path} has a description`);
      if (schema.default !== undefined) t.ok(ajv.validate(schema, schema.default), `${path}: its default ${JSON.stringify(schema.default)} is valid`);
      const inner = sectionOf(schema);
      if (inner) visit(inner, `${path}.`);
    }
  };
  visit(policySchema(), '');
});

t.test('the published JSON Schema, as an editor applies it (no custom formats), accepts the examples and catches typos', async (t) => {
  const published = JSON.parse(read('schema/breakwater-policy.schema.json')) as object;
  const validate = new Ajv({ strict: true, allErrors: true }).compile(published);
  const readme = read('README.md');
  const start = readme.indexOf('```yaml\n', readme.indexOf('## The policy file')) + '```yaml\n'.length;
  const examples: Record<string, string> = { 'config/breakwater.yaml': read('config/breakwater.yaml'), 'README.md': readme.slice(start, readme.indexOf('```', start)) };
  for (const [name, text] of Object.entries(examples)) t.ok(validate(parse(text)), `${name}: ${JSON.stringify(validate.errors)}`);
  t.match(read('config/breakwater.yaml').split('\n')[0], /^# yaml-language-server: \$schema=\.\.\/schema\/breakwater-policy\.schema\.json$/);
  const typo = parse(examples['config/breakwater.yaml']!) as { listeners: Array<{ routes: Array<Record<string, unknown>> }> };
  typo.listeners[0]!.routes[0]!.timeout = 3;
  t.notOk(validate(typo), 'a duration given as a number');
  t.match(validate.errors, [{ instancePath: '/listeners/0/routes/0/timeout' }]);
});

t.test('the runtime build leaves out the schema and TypeBox, which production installs do not have', async (t) => {
  const files = execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--listFilesOnly'], { cwd: root, encoding: 'utf8' }).split('\n');
  t.ok(files.some((f) => f.endsWith('proxy/config/load.ts')), 'the listing is the runtime build');
  const generators = `${root}build/`;
  t.same(files.filter((f) => f.includes('@sinclair/typebox') || f.endsWith('proxy/config/schema.ts') || f.startsWith(generators)), []);
});
