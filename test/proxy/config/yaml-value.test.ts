// YAML aliases in a policy file: bounded by what they stand for, not by how often an anchor is used (yaml's default
// maxAliasCount of 100 refused legitimate files with a bare ReferenceError), and an alias bomb is a problem with a line,
// in-process and in the policy check's child process alike.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { LineCounter, parseDocument } from 'yaml';
import { parsePolicy } from '../../../proxy/config/load.js';
import { checkPolicyFile } from '../../../proxy/config/policy-check.js';
import { PolicyError } from '../../../proxy/config/policy-error.js';
import { documentValue } from '../../../proxy/config/yaml-value.js';
import { aliasBomb, sharedRetryPolicy } from '../../helpers/policy-aliases.js';

function refusal(t: Test, text: string, source = 'policy.yaml'): PolicyError {
  const err = t.throws(() => parsePolicy(text, source)) as PolicyError;
  t.type(err, PolicyError, 'refused as a PolicyError');
  return err;
}

t.test('one anchor used 100 and 10,000 times loads', async (t) => {
  for (const routes of [101, 10_001]) {
    const policy = parsePolicy(sharedRetryPolicy(routes), 'shared.yaml');
    const all = policy.listeners[0]!.routes;
    t.equal(all.length, routes, `${routes - 1} aliases`);
    t.ok(all.every((r) => r.retry.attempts === 3 && r.retry.backoff.baseMs === 10 && r.retry.on.reset), 'every route has the shared retry block');
  }
});

t.test('an alias bomb is a problem naming its line, not a ReferenceError', async (t) => {
  const err = refusal(t, aliasBomb(), 'bomb.yaml');
  t.equal(err.problems.length, 1);
  t.match(err.problems[0], /^line \d+: alias \*[a-i]: the aliases so far stand for more than 1000000 nodes/);
  const line = Number(/^line (\d+)/.exec(err.problems[0]!)![1]);
  t.match(aliasBomb().split('\n')[line - 1], /^ {4}x\d: &[a-i] \[\*[a-i]/, 'the line named is one of the bomb\'s levels');
});

t.test('an alias with no anchor before it, or inside its own anchor, is a problem naming its line', async (t) => {
  t.match(refusal(t, 'listeners: *nowhere\nupstreams: []\n').problems, ['line 1: alias *nowhere has no anchor &nowhere before it']);
  t.match(refusal(t, 'listeners: []\nupstreams: &u [{ name: u, endpoints: *u }]\n').problems, ['line 2: alias *u has no anchor &u before it']);
});

t.test('the value is what yaml\'s own toJS() gives', async (t) => {
  const documents = {
    'config/breakwater.yaml': readFileSync('config/breakwater.yaml', 'utf8'),
    'anchors, a redefined one, flow pairs, empty values and odd keys': [
      'base: &b { timeout: 1s, tags: [x, y] }',
      'uses: [*b, *b]',
      'again: &b 7',
      'last: *b',
      'pairs: [a: 1, b: *b]',
      'empty:',
      '? 12',
      ': twelve',
      '__proto__: { polluted: true }',
      'null: ~',
      '',
    ].join('\n'),
  };
  for (const [name, text] of Object.entries(documents)) {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines });
    t.same(documentValue(doc, lines), doc.toJS(), name);
  }
  const doc = parseDocument('__proto__: { polluted: true }\n');
  const value = documentValue(doc, new LineCounter()) as Record<string, unknown>;
  t.equal(Object.getPrototypeOf(value), Object.prototype, 'a __proto__ key is a property, not the prototype');
  t.same(Object.keys(value), ['__proto__']);
});

t.test('in the policy check\'s child process, a bomb is refused as a problem and the child does not run out of memory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'yaml-aliases-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bomb = join(dir, 'bomb.yaml');
  writeFileSync(bomb, aliasBomb());
  const err = await checkPolicyFile(bomb, { inProcessBytes: -1 }).catch((e: unknown) => e);
  t.type(err, PolicyError);
  t.match((err as PolicyError).problems, [/^line \d+: alias \*[a-i]: the aliases so far stand for more than 1000000 nodes/]);
  const shared = join(dir, 'shared.yaml');
  writeFileSync(shared, sharedRetryPolicy(10_001));
  t.equal((await checkPolicyFile(shared)).listeners[0]!.routes.length, 10_001, 'a large file with 10,000 aliases passes the child\'s check');
});
