// An alias bomb in a real Breakwater's policy file: `breakwater validate` and start-up print the problem with its line
// and exit 1 (no stack trace), and a reload onto one is refused while the proxy keeps serving the running policy.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { CLI, http, startBreakwater } from '../helpers/breakwater.js';
import { aliasBomb, sharedRetryPolicy } from '../helpers/policy-aliases.js';

const run = promisify(execFile);
const BOMB_PROBLEM = /line \d+: alias \*[a-i]: the aliases so far stand for more than 1000000 nodes/;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

t.test('validate and start-up report an alias bomb by its line and exit 1; shared blocks pass', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'breakwater-aliases-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bomb = join(dir, 'bomb.yaml');
  writeFileSync(bomb, aliasBomb());
  for (const args of [['validate', bomb], ['--config', bomb]]) {
    const result = await cli(...args);
    t.equal(result.code, 1, `${args[0]}: exit 1`);
    t.match(result.stderr, BOMB_PROBLEM, `${args[0]}: the problem names its line`);
    t.notMatch(result.stderr, /ReferenceError|\n\s+at /, `${args[0]}: no stack trace`);
  }
  const shared = join(dir, 'shared.yaml');
  writeFileSync(shared, sharedRetryPolicy(150));
  const ok = await cli('validate', shared);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /ok \(1 listener\(s\), 150 route\(s\), 1 upstream\(s\)\)/, 'one anchor used 149 times');
});

t.test('a reload onto an alias bomb is refused and the proxy keeps serving', async (t) => {
  const bw = await startBreakwater({
    listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [{ name: 'api', upstream: 'backend' }] }],
    upstreams: [{ name: 'backend', endpoints: ['127.0.0.1:9'] }],
  });
  t.teardown(() => bw.stop());
  const from = bw.logs.length;
  bw.writePolicy(aliasBomb());
  const rejected = await bw.waitForLog((l) => l.msg === 'policy reload rejected; the running policy is unchanged', 10_000, from);
  t.match(rejected.problems, [BOMB_PROBLEM]);
  const ready = await http(`${bw.admin}/readyz`);
  t.equal(ready.status, 200, 'still ready');
  t.match(JSON.parse(ready.body), { ready: true, generation: 1 }, 'on the running policy');
  t.equal(bw.child.exitCode, null, 'the proxy is running');
});
