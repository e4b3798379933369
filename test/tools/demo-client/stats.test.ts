import t from 'tap';
import { LatencyHistogram } from '../../../demo-client/latency-histogram.js';
import { RollingStats } from '../../../demo-client/rolling-stats.js';
import type { RequestRecord } from '../../../demo-client/types.js';

function record(seq: number, latencyMs: number, ok = true, fastFail = false): RequestRecord {
  return { arm: 'none', seq, start: seq * 10, latencyMs, status: ok ? 200 : 503, ok, fastFail };
}

t.test('latency histogram: percentiles within 5% above the true value, in fixed memory', async (t) => {
  const histogram = new LatencyHistogram();
  for (let ms = 1; ms <= 1000; ms++) histogram.record(ms);
  for (const [p, exact] of [[50, 500], [99, 990]] as const) {
    const reported = histogram.percentile(p);
    t.ok(reported >= exact && reported <= exact * 1.05, `p${p} ${reported} within [${exact}, ${exact * 1.05}]`);
  }
  t.equal(histogram.percentile(100), 1000, 'never above the largest value seen');
  t.equal(new LatencyHistogram().percentile(50), 0);
});

t.test('rolling stats: the window forgets old records, since-start does not, the ring stays bounded', async (t) => {
  const stats = new RollingStats(60_000, 3);
  stats.add(record(0, 10, false), 0);
  stats.add(record(1, 20), 30_000);
  stats.add(record(2, 30, false, true), 61_000);
  let report = stats.report(61_000);
  t.same(report.window, { seconds: 60, count: 2, ok: 1, successRate: 0.5, p50: 20, p99: 30, fastFails: 1 });
  t.equal(report.count, 3);
  t.equal(report.ok, 1);
  t.equal(report.fastFails, 1);
  for (let i = 3; i < 10; i++) stats.add(record(i, 5), 62_000);
  report = stats.report(62_000);
  t.equal(report.window.count, 3, 'a full ring overwrites its oldest entries');
  t.equal(report.count, 10);
  t.equal(report.successRate, 8 / 10);
});
