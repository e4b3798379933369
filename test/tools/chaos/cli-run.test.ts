// The chaos CLI end to end, as users run it: a real process, real backends and a real Breakwater.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { ExperimentResult } from '../../../chaos/results.js';
import { writeTinyExperiment } from './experiment-fixture.js';
import { exitWithin, reportedPids, startCli, stopCli } from './run-cli.js';
import { isGone } from '../../helpers/wait-for.js';

t.test('a tiny end-to-end run writes results.json to the contract, the raw data and the report', async (t) => {
  const { file, dir } = await writeTinyExperiment(t, (e) => {
    e.timeline = [{ at: '1500ms', action: 'errors', target: 'b/all', rate: 1, status: 503 }, { at: '2500ms', action: 'restore' }];
  });
  const out = path.join(dir, 'run');
  const run = startCli([file, '--arms', 'none,proxy', '--duration', '3s', '--rate', '10', '--seed', '7', '--out', out]);
  t.teardown(() => stopCli(run));
  const code = await exitWithin(run, 50_000);
  const result = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as ExperimentResult;
  t.equal(code, result.passed && result.discriminates !== false ? 0 : 1, `exit code follows the verdict (stderr: ${run.stderr().slice(-500)})`);

  t.equal(result.name, 'tiny');
  t.equal(result.seed, 7);
  t.ok(!Number.isNaN(Date.parse(result.startedAt)), 'startedAt is a timestamp');
  t.same(result.load, { rate: 10, durationMs: 3000 });
  t.match(result.hypothesis, { description: String, metric: 'successRate', op: '>=', value: 0.5 });
  t.same(result.arms.map((a) => a.arm), ['none', 'proxy']);
  for (const arm of result.arms) {
    t.match(arm.summary, {
      arm: arm.arm, count: Number, ok: Number, successRate: Number, p50: Number, p95: Number, p99: Number, max: Number,
      fastFails: Number, throughput: Number, durationMs: Number, amplification: Number,
    }, `${arm.arm} summary fields`);
    t.ok(arm.summary.count >= 25 && arm.summary.count <= 30, `${arm.arm}: about 3 s x 10 req/s sent (${arm.summary.count})`);
    t.ok(arm.summary.amplification > 0, `${arm.arm}: backend arrivals were sampled (${arm.summary.amplification})`);
    t.ok('timeToDetectMs' in arm.summary && 'timeToRecoverMs' in arm.summary);
    t.match(arm.hypothesis, { passed: Boolean, observed: Number });
    t.same(arm.timeline.map((b) => b.t), [0, 1000, 2000], `${arm.arm}: 1 s buckets`);
    t.equal(arm.timeline.reduce((n, b) => n + b.requests, 0), arm.summary.count, 'buckets hold every request');
    t.same(arm.events.map((e) => e.action), ['errors', 'restore'], `${arm.arm}: the timeline ran`);
    const jsonl = (await readFile(path.join(out, `${arm.arm}.jsonl`), 'utf8')).trim().split('\n');
    t.equal(jsonl.length, arm.summary.count, `${arm.arm}: one raw record per request`);
  }
  const none = result.arms.find((a) => a.arm === 'none')!;
  const failed = none.timeline.find((b) => b.t === 1000)!;
  t.ok(failed.successRate < 1, 'the unprotected arm saw the injected errors');
  t.ok(result.arms.find((a) => a.arm === 'proxy')!.timeline.some((b) => b.breakerState !== undefined), 'breaker state sampled');
  t.equal(result.passed, result.arms.filter((a) => a.arm !== 'none').every((a) => a.hypothesis.passed));
  t.ok((await readFile(path.join(out, 'report.md'), 'utf8')).length > 0, 'report.md written');
  t.match(await readFile(path.join(out, 'report.html'), 'utf8'), /<svg/, 'report.html written');
  t.match(run.stdout(), /proxy/, 'the table is printed');
  t.match(run.stdout(), /report: .*report\.html/, 'and where the report is');
  for (const pid of reportedPids(run.stderr())) t.ok(isGone(pid), `pid ${pid} ended`);
});

