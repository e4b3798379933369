// The chaos CLI's exits other than a completed run: interrupted, bad input, --list.
import path from 'node:path';
import t from 'tap';
import { listExperimentNames } from '../../../chaos/experiment/experiment-file.js';
import { writeTinyExperiment } from './experiment-fixture.js';
import { exitWithin, reportedPids, startCli, stopCli } from './run-cli.js';
import { isGone, waitFor } from '../../helpers/wait-for.js';

t.test('SIGINT mid-run rolls back and ends every process', async (t) => {
  const { file, dir } = await writeTinyExperiment(t, (e) => {
    e.load.duration = '30s';
    e.timeline = [{ at: '500ms', action: 'freeze', target: 'b/0' }];
  });
  const run = startCli([file, '--arms', 'proxy', '--out', path.join(dir, 'run')]);
  t.teardown(() => stopCli(run));
  await waitFor(() => /freeze b\/0/.test(run.stderr()), 45_000, 'the freeze to be applied (stderr so far below)').catch((error: Error) => {
    throw new Error(`${error.message}\n${run.stderr()}`);
  });
  process.kill(run.pid, 'SIGINT');
  t.equal(await exitWithin(run, 20_000), 130, 'interrupted exit code');
  t.match(run.stderr(), /rolled back: thaw b\/0/);
  const pids = reportedPids(run.stderr());
  t.ok(pids.length >= 3, 'two replicas and Breakwater were started');
  for (const pid of pids) t.ok(isGone(pid), `pid ${pid} ended`);
});

t.test('bad input exits 2 with a message naming the file and the field', async (t) => {
  const { file } = await writeTinyExperiment(t, (e) => {
    e.timeline = [{ at: '1s', action: 'kil', target: 'b/0' }];
  });
  const bad = startCli([file]);
  t.equal(await exitWithin(bad, 15_000), 2);
  t.match(bad.stderr(), /tiny\.yaml: timeline\[0\]\.action: unknown action "kil"/);

  const unknown = startCli(['no-such-experiment']);
  t.equal(await exitWithin(unknown, 15_000), 2);
  t.match(unknown.stderr(), /unknown experiment \(available: .*pod-kill-one/);

  const badFlag = startCli(['pod-kill-one', '--rate', 'fast']);
  t.equal(await exitWithin(badFlag, 15_000), 2);
  t.match(badFlag.stderr(), /--rate: "fast"/);
});

t.test('--list shows every experiment with its title', async (t) => {
  const list = startCli(['--list']);
  t.equal(await exitWithin(list, 15_000), 0);
  t.match(list.stdout(), /pod-kill-one\s+Pod kill, one of two replicas/);
  t.match(list.stdout(), /grpc-crash-one\s+gRPC, crash one of two replicas/);
  t.equal(list.stdout().trim().split('\n').length, (await listExperimentNames()).length, 'one line per experiment file');
});
