// The gRPC experiments end to end, CI-sized (2 s of load, every arm), on the local target through the CLI as users
// run them: gRPC replicas start, the timeline acts on them, each arm's calls are logged with their gRPC status.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { RequestRecord } from '../../../demo-client/load.js';
import type { ExperimentResult } from '../../../chaos/results.js';
import { exitWithin, reportedPids, startCli, stopCli } from './run-cli.js';
import { isGone } from '../../helpers/wait-for.js';

const out = await mkdtemp(path.join(os.tmpdir(), 'chaos-grpc-'));
t.teardown(() => rm(out, { recursive: true, force: true }));

async function run(t: Test, name: string): Promise<{ result: ExperimentResult; records: (arm: string) => Promise<RequestRecord[]> }> {
  const runDir = path.join(out, name);
  const cli = startCli([name, '--target', 'local', '--duration', '2s', '--out', runDir]);
  t.teardown(() => stopCli(cli));
  const code = await exitWithin(cli, 90_000);
  t.ok(code === 0 || code === 1, `${name} ran to a verdict (exit ${code}; stderr: ${cli.stderr().slice(-600)})`);
  for (const pid of reportedPids(cli.stderr())) t.ok(isGone(pid), `pid ${pid} ended`);
  const result = JSON.parse(await readFile(path.join(runDir, 'results.json'), 'utf8')) as ExperimentResult;
  t.same(result.arms.map((a) => a.arm), ['none', 'app', 'proxy']);
  const records = async (arm: string) =>
    (await readFile(path.join(runDir, `${arm}.jsonl`), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as RequestRecord);
  for (const arm of result.arms) {
    const logged = await records(arm.arm);
    t.equal(logged.length, arm.summary.count, `${name}/${arm.arm}: one log line per call`);
    t.ok(logged.every((r) => typeof r.grpcStatus === 'string'), `${name}/${arm.arm}: every call has its gRPC status`);
  }
  return { result, records };
}

t.test('grpc-flaky: the plain client gets UNAVAILABLE, the app arm retries it', async (t) => {
  const { result, records } = await run(t, 'grpc-flaky');
  const none = await records('none');
  t.ok(none.some((r) => r.grpcStatus === 'unavailable'), 'injected UNAVAILABLE reached the plain client');
  t.ok(none.some((r) => r.ok && r.replica?.startsWith('demo-')), 'and answers name their replica');
  const app = await records('app');
  t.ok(app.some((r) => (r.attempts ?? 0) >= 2), 'grpc-js retried some calls');
  t.ok(result.arms.find((a) => a.arm === 'app')!.summary.amplification > 1, 'retries arrived at the replicas');
  const proxy = await records('proxy');
  t.ok(proxy.every((r) => r.attempts !== undefined), 'Breakwater says how many attempts each call took');
  t.ok(proxy.some((r) => r.ok && r.attempts! >= 2), 'and retried UNAVAILABLE into successes');
});

t.test('grpc-crash-one: the crash happens and is recorded', async (t) => {
  const { result } = await run(t, 'grpc-crash-one');
  for (const arm of result.arms) t.ok(arm.events.some((e) => e.action === 'crash' && e.target === 'demo/0'), `${arm.arm}: crash demo/0`);
  t.ok(result.arms.find((a) => a.arm === 'app')!.summary.ok > 0, 'the app arm reached the replicas');
});

t.test('grpc-freeze-one: freeze and thaw', async (t) => {
  const { result } = await run(t, 'grpc-freeze-one');
  for (const arm of result.arms) t.same(arm.events.filter((e) => e.target === 'demo/0').map((e) => e.action), ['freeze', 'thaw'], `${arm.arm}: froze and thawed demo/0`);
});
