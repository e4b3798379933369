/**
 * checkPolicyFile() checks a policy in a child process: what it hands back must be the policy parsePolicy() gives
 * in-process (a structured clone changes some types on the way), and its refusals must read the same.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parsePolicy } from '../../../proxy/config/load.js';
import { checkPolicyFile } from '../../../proxy/config/policy-check.js';
import { PolicyError } from '../../../proxy/config/policy-error.js';

const WITH_FALLBACK = `listeners:
  - name: egress
    address: 127.0.0.1:0
    routes:
      - name: guarded
        upstream: backend
        retry: { attempts: 3, on: [5xx, reset] }
        circuitBreaker: { consecutiveFailures: 3 }
        fallback: { status: 200, json: { cached: true } }
upstreams:
  - name: backend
    endpoints: ["127.0.0.1:1"]
`;

/** These files are small enough to be checked in-process; the tests are about the child, so every size goes there. */
const IN_CHILD = { inProcessBytes: -1 };

function policyFile(t: Test, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'policy-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, text);
  return file;
}

t.test('the policy checked in a child process is the policy parsed in-process', async (t) => {
  for (const [name, text] of [
    ['config/breakwater.yaml', readFileSync('config/breakwater.yaml', 'utf8')],
    ['a route with a fallback', WITH_FALLBACK],
  ] as const) {
    const file = policyFile(t, text);
    const checked = await checkPolicyFile(file, IN_CHILD);
    t.strictSame(checked, parsePolicy(text, file), `${name}: same policy, Sets and Buffers included`);
    for (const route of checked.listeners.flatMap((l) => l.routes)) {
      t.ok(route.retry.on.statuses instanceof Set, `${name}/${route.name}: retry statuses are a Set`);
      if (route.fallback) t.ok(Buffer.isBuffer(route.fallback.body), `${name}/${route.name}: the fallback body is a Buffer, as the listener expects`);
    }
  }
});

t.test('a bad file is refused with the same problems as in-process', async (t) => {
  const text = WITH_FALLBACK.replace('attempts: 3', 'attempts: 0').replace('127.0.0.1:1', 'nowhere');
  const file = policyFile(t, text);
  const inProcess = t.throws(() => parsePolicy(text, file)) as PolicyError;
  const err = await checkPolicyFile(file, IN_CHILD).catch((e: unknown) => e);
  t.type(err, PolicyError);
  t.strictSame((err as PolicyError).problems, inProcess.problems);
  t.ok(inProcess.problems.length >= 2, 'both problems are listed');
});

t.test('a missing file is refused, naming it', async (t) => {
  const file = join(tmpdir(), 'breakwater-no-such-policy.yaml');
  const err = (await checkPolicyFile(file, IN_CHILD).catch((e: unknown) => e)) as PolicyError;
  t.type(err, PolicyError);
  t.match(err.problems[0], /cannot read the policy file: ENOENT/);
});

t.test('a check that does not answer in time is stopped and refused', async (t) => {
  const file = policyFile(t, WITH_FALLBACK);
  // No process starts, loads yaml and answers within 1 ms: the deadline always fires first.
  const err = (await checkPolicyFile(file, { ...IN_CHILD, timeoutMs: 1 }).catch((e: unknown) => e)) as PolicyError;
  t.type(err, PolicyError);
  t.match(err.problems, [/checking the policy took longer than 1 ms; it was stopped/]);
});

t.test('a debugger asked for in NODE_OPTIONS does not reach the check, which answers', async (t) => {
  const file = policyFile(t, WITH_FALLBACK);
  const original = process.env.NODE_OPTIONS;
  t.teardown(() => {
    if (original === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = original;
  });
  // Set after this process started, so only the child would wait for a debugger (and miss the deadline).
  process.env.NODE_OPTIONS = `${original ?? ''} --inspect-brk=127.0.0.1:0`.trim();
  const policy = await checkPolicyFile(file, { ...IN_CHILD, timeoutMs: 20_000 });
  t.equal(policy.listeners[0]!.routes.length, 1);
});

t.test('a proxy started by `node -e` gets its answer from the child, which does not run the script again', async (t) => {
  const file = policyFile(t, WITH_FALLBACK);
  // The compiled module: a plain `node -e` has no TypeScript loader (`npm test` builds before it runs the tests).
  const checker = new URL('../../../dist/proxy/config/policy-check.js', import.meta.url).href;
  // Were the child to run this script again, the marker makes it exit at once instead of forking on and on.
  const script = `if (process.env.CHECK_SCRIPT_RAN) process.exit(3);
process.env.CHECK_SCRIPT_RAN = '1';
const { checkPolicyFile } = await import(${JSON.stringify(checker)});
const policy = await checkPolicyFile(${JSON.stringify(file)}, { inProcessBytes: -1, timeoutMs: 60_000 });
console.log('routes', policy.listeners[0].routes.length);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 90_000 });
  t.equal(run.status, 0, `exit status 0; stderr: ${run.stderr}`);
  t.equal(run.stdout.trim(), 'routes 1');
});
