// Where the mini-cluster cannot be made (here: the runner is not root), the default target falls back to the local
// loopback environment and says so on the terminal and in results.json; an experiment whose faults only the
// mini-cluster has refuses to run instead, naming the fault and the reason.
import { spawn } from 'node:child_process';
import { chmod, readFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { ExperimentResult } from '../../../chaos/results.js';
import { writeTinyExperiment } from './experiment-fixture.js';
import { CLI } from './run-cli.js';
import { within } from '../../helpers/wait-for.js';

/** The CLI as an unprivileged user (nobody) when this test runs as root; otherwise as the user it already is. */
function runUnprivileged(t: Test, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const command = [process.execPath, CLI, ...args];
  const [file, ...rest] = process.getuid?.() === 0 ? ['runuser', '-u', 'nobody', '--', ...command] : command;
  const child = spawn(file!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return within(exited, 60_000, `the chaos CLI to exit (stderr so far: ${stderr})`);
}

t.test('without namespaces the run falls back to loopback and says why', async (t) => {
  const { file, dir } = await writeTinyExperiment(t, (e) => {
    e.arms = ['none'];
  });
  await chmod(dir, 0o777); // the unprivileged runner writes its run folder here
  const out = path.join(dir, 'run');
  const run = await runUnprivileged(t, [file, '--duration', '1s', '--out', out]);
  t.ok(run.code === 0 || run.code === 1, `the run completed (exit ${run.code}; stderr: ${run.stderr.slice(-400)})`);
  t.match(run.stderr, /mini-cluster not available \(network namespaces and iptables need root\): running on the local loopback environment/);
  const result = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as ExperimentResult;
  t.match(result.environment, /^local loopback processes \(network namespaces and iptables need root\)/, 'results.json says where it ran and why');
  t.match(await readFile(path.join(out, 'report.md'), 'utf8'), /Environment.*local loopback/, 'and so does the report');
});

t.test('an experiment with a fault only the mini-cluster has refuses to fall back', async (t) => {
  const { file, dir } = await writeTinyExperiment(t, (e) => {
    e.timeline = [{ at: '1s', action: 'node-failure', target: 'b/0' }];
  });
  await chmod(dir, 0o777);
  const run = await runUnprivileged(t, [file, '--duration', '2s', '--out', path.join(dir, 'run')]);
  t.equal(run.code, 2, 'bad input for this machine: exit 2');
  t.match(run.stderr, /tiny: action "node-failure" needs the mini-cluster, which cannot be made here: network namespaces and iptables need root/);
});
