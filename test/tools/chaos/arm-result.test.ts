// How raw observations become the numbers the report shows: buckets, amplification, detection and recovery times.
import t from 'tap';
import type { RequestRecord } from '../../../demo-client/load.js';
import { buildArmResult } from '../../../chaos/runner/arm-result.js';
import { tinyExperiment } from './experiment-fixture.js';

/** 10 req/s for 6 s; failing (fast after 2.5 s) between the fault at 2 s and the restore at 4 s. */
function records(): RequestRecord[] {
  return Array.from({ length: 60 }, (_, seq): RequestRecord => {
    const start = seq * 100;
    const failing = start >= 2000 && start < 4000;
    const fastFail = failing && start >= 2500;
    return {
      arm: 'proxy', seq, start, latencyMs: fastFail ? 2 : failing ? 300 : 10, status: failing ? 503 : 200, ok: !failing, fastFail,
      attempts: fastFail ? undefined : failing ? 3 : 1,
    };
  });
}

t.test('an arm result summarizes the run, its buckets, and the detection and recovery times', async (t) => {
  const { experiment } = await tinyExperiment(t, (e) => {
    e.load.duration = '6s';
    e.hypothesis = { description: 'fault window success', metric: 'successRate', op: '>=', value: 0.5, window: { from: '2s', to: '4s' } };
  });
  const result = buildArmResult(experiment, {
    arm: { name: 'proxy', base: 'proxy' },
    recordsByStream: new Map([['b', records()]]),
    elapsedMs: 6000,
    arrivals: Array.from({ length: 24 }, (_, i) => ({ t: (i + 1) * 250, count: i >= 8 && i < 10 ? 9 : 3 })),
    proxy: [
      { t: 1000, breakerState: 'closed', retriesTotal: 0, ejectionsTotal: 0 },
      { t: 3000, breakerState: 'open', retriesTotal: 12, ejectionsTotal: 1 },
      { t: 5000, breakerState: 'closed', retriesTotal: 12, ejectionsTotal: 1 },
    ],
    events: [{ t: 2000, action: 'errors', target: 'b/all' }, { t: 4000, action: 'restore' }],
  });
  t.equal(result.summary.count, 60);
  t.equal(result.summary.successRate, 40 / 60);
  t.equal(result.summary.amplification, (22 * 3 + 2 * 9) / 60, 'backend arrivals per client request');
  t.equal(result.summary.timeToDetectMs, 502, 'first fast-fail answered at 2.502 s, 0.502 s after the fault');
  t.equal(result.summary.timeToRecoverMs, 1000, 'the bucket starting at the restore is fully back');
  t.same(result.timeline.map((b) => b.successRate), [1, 1, 0, 0, 1, 1]);
  t.same(result.timeline.map((b) => b.fastFails), [0, 0, 5, 10, 0, 0]);
  t.same(result.timeline.map((b) => b.breakerState), [undefined, 'closed', undefined, 'open', undefined, 'closed']);
  t.equal(result.timeline[3]!.retries, 12, 'retries per bucket from the counter deltas');
  t.equal(result.timeline[2]!.backendArrivals, 3 + 3 + 9 + 9, 'arrivals counted in the bucket they were sampled');
  t.same(result.attemptsHistogram, { 1: 40, 3: 5 });
  t.same(result.hypothesis, { passed: false, observed: 0 }, 'judged over the window only');
  t.same(result.events.map((e) => e.action), ['errors', 'restore']);
});

t.test('no fault means no detection time; a never-recovered run says so', async (t) => {
  const { experiment } = await tinyExperiment(t);
  const failing = records().map((r) => ({ ...r, ok: false, status: 503 }));
  const result = buildArmResult(experiment, {
    arm: { name: 'none', base: 'none' }, recordsByStream: new Map([['b', failing]]), elapsedMs: 6000, arrivals: [], proxy: [],
    events: [{ t: 1000, action: 'restore' }],
  });
  t.equal(result.summary.timeToDetectMs, null);
  t.equal(result.summary.timeToRecoverMs, null);
  t.equal(result.hypothesis.passed, false, 'the none arm is judged like every arm: all calls failed');
  t.equal(result.timeline[0]!.breakerState, undefined, 'no breaker state without a proxy');
});
