// CI smoke of the hostile soak: a real `node dist/bench/run.js --smoke --hostile` run (a few seconds of every
// hostile client beside normal traffic) must write a report in which normal traffic was answered, every hostile
// client connected, reloads were counted and the bulkhead gauges were read, during the load and after it.
import t from 'tap';
import type { HostileReport } from '../../../bench/report/results.js';
import { runBench } from './run-bench.js';

/** A 4 s load plus start, a settle of at most 10 s and stop: well under this. */
const RUN_DEADLINE_MS = 45_000;
/** Normal traffic on a busy CI machine: the harness is checked here, the 99.9% goal is the report's to judge. */
const SMOKE_SUCCESS_MIN = 0.99;

const isPositive = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value > 0;

t.test('--smoke --hostile writes a hostile soak report', async (t) => {
  const report = await runBench<HostileReport>(t, ['--smoke', '--hostile'], 'hostile.smoke', RUN_DEADLINE_MS);
  if (!report) return;
  t.equal(report.smoke, true);
  const { hostile, settings } = report;
  t.equal(hostile.durationS, 4, 'the smoke run lasts its default 4 s');

  const { normal } = hostile;
  const answered = Object.values(normal.statuses).reduce((total, count) => total + count, 0);
  t.ok(normal.sent > 0, `normal traffic was sent (${normal.sent})`);
  t.equal(answered + normal.unanswered, normal.sent, 'every normal request is counted, answered or not');
  t.ok(normal.successRate >= SMOKE_SUCCESS_MIN, `normal traffic succeeded (${(normal.successRate * 100).toFixed(2)}% 2xx)`);
  t.ok(isPositive(normal.p50Us) && isPositive(normal.p99Us), 'normal traffic has p50 and p99');

  for (const [name, attacker] of Object.entries({ slowloris: hostile.slowloris, stalledBodies: hostile.stalledBodies, aborting: hostile.aborting })) {
    t.ok(attacker.connections > 0, `${name}: connected (${attacker.connections})`);
  }
  t.ok(hostile.slowloris.connections >= settings.slowlorisConnections, 'every slowloris worker connected');
  t.ok(Object.keys(hostile.aborting.abandoned).length > 0, 'aborting clients abandoned requests');

  t.ok(hostile.reloads.written >= 1, `the policy was rewritten (${hostile.reloads.written})`);
  t.ok(typeof hostile.reloads.succeeded === 'number' && typeof hostile.reloads.failed === 'number', 'reload results read from /metrics');

  const phases = new Set(hostile.samples.map((sample) => sample.phase));
  t.same([...phases].sort(), ['baseline', 'load', 'settle'], 'samples before, during and after the load');
  t.ok(hostile.samples.every((sample) => isPositive(sample.rssMB) && isPositive(sample.openFiles)), 'RSS and open files in every sample');
  t.ok(hostile.samples.every((sample) => sample.proxyCpuPercent >= 0 && sample.clientCpuPercent >= 0), 'CPU of the proxy and the clients');
  t.ok(hostile.samples.some((sample) => sample.phase === 'load' && (sample.bulkheads?.length ?? 0) > 0), 'bulkhead gauges read under load');
  t.ok(isPositive(hostile.rss.baselineMB) && isPositive(hostile.rss.peakMB) && isPositive(hostile.rss.endMB), 'RSS baseline, peak and end');
  t.same(
    hostile.bulkheadsAfterSettle.map((gauge) => `${gauge.scope}/${gauge.name}`).sort(),
    ['route/api', 'upstream/backend', 'upstream/narrow'],
    'every bulkhead gauge read after the settle period',
  );
  t.ok(hostile.afterLoad.length >= 5 && hostile.afterLoad.every((probe) => probe.status === null || probe.status >= 100),
    'one request down every route after the load');
  t.ok(hostile.listenerRejected === null || typeof hostile.listenerRejected === 'object', 'listener rejections read if exported');

  t.ok(report.goals.length > 0, 'goals are evaluated');
  for (const goal of report.goals) t.ok(goal.met === null || typeof goal.met === 'boolean', `goal "${goal.goal}" has a verdict`);
});
