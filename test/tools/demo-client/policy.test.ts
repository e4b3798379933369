import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backoffDelayMs } from '../../../demo-client/backoff.js';
import { DEFAULT_APP_POLICY, parseAppPolicy, readAppPolicy } from '../../../demo-client/policy.js';

t.test('backoff: exponential, capped, with the chosen jitter', async (t) => {
  const retry = { attempts: 4, baseMs: 50, maxMs: 300, jitter: 'none' as const };
  t.same([1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, retry)), [50, 100, 200, 300, 300]);
  t.equal(backoffDelayMs(3, { ...retry, jitter: 'full' }, () => 0.5), 100);
  t.equal(backoffDelayMs(3, { ...retry, jitter: 'full' }, () => 0), 0);
  t.equal(backoffDelayMs(3, { ...retry, jitter: 'equal' }, () => 0), 100);
  t.equal(backoffDelayMs(3, { ...retry, jitter: 'equal' }, () => 0.999999), 199.9999);
});

t.test('app policy: the default validates; bad input names the file and the field', async (t) => {
  t.same(parseAppPolicy(JSON.parse(JSON.stringify(DEFAULT_APP_POLICY)), 'p.json'), DEFAULT_APP_POLICY);
  const broken = (patch: (p: any) => void) => {
    const p = JSON.parse(JSON.stringify(DEFAULT_APP_POLICY));
    patch(p);
    return () => parseAppPolicy(p, 'p.json');
  };
  t.throws(broken((p) => (p.retry.attempts = 0)), /p\.json: \$\.retry\.attempts must be > 0/);
  t.throws(broken((p) => (p.retry.attempts = 1.5)), /\$\.retry\.attempts must be a whole number/);
  t.throws(broken((p) => (p.retry.jitter = 'some')), /\$\.retry\.jitter must be one of full, equal, none/);
  t.throws(broken((p) => (p.breaker.errorThresholdPercentage = 150)), /\$\.breaker\.errorThresholdPercentage must be at most 100/);
  t.throws(broken((p) => (p.timeoutMs = '800ms')), /\$\.timeoutMs must be a number >= 0, got "800ms"/);
  t.throws(broken((p) => delete p.breaker), /\$\.breaker must be an object/);
});

t.test('app policy file: read and validated, or a clear error naming the file', async (t) => {
  const dir = t.testdir({ 'bad.json': '{ "timeoutMs": ' });
  const good = join(dir, 'good.json');
  const custom = { ...DEFAULT_APP_POLICY, retry: { attempts: 2, baseMs: 1, maxMs: 2, jitter: 'none' } };
  await writeFile(good, JSON.stringify(custom));
  t.same(await readAppPolicy(good), custom);
  await t.rejects(readAppPolicy(join(dir, 'bad.json')), /bad\.json: cannot read the app policy as JSON/);
  await t.rejects(readAppPolicy(join(dir, 'missing.json')), /missing\.json: cannot read the app policy/);
});
