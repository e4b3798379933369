import t from 'tap';
import { percentile, summarize } from '../../../demo-client/summary.js';
import type { RequestRecord } from '../../../demo-client/types.js';

function record(seq: number, latencyMs: number, ok = true, fastFail = false): RequestRecord {
  return { arm: 'none', seq, start: seq * 10, latencyMs, status: ok ? 200 : 503, ok, fastFail };
}

t.test('summarize: nearest-rank percentiles, success rate, fast fails and throughput on known inputs', async (t) => {
  // latencies 1..100 ms: nearest rank p50 = 50, p95 = 95, p99 = 99, max = 100
  const records = Array.from({ length: 100 }, (_, i) => record(i, 100 - i, i % 4 !== 0, i % 10 === 0));
  const summary = summarize('proxy', records, 2000);
  t.same(summary, { arm: 'proxy', count: 100, ok: 75, successRate: 0.75, p50: 50, p95: 95, p99: 99, max: 100, fastFails: 10, throughput: 50, durationMs: 2000 });
});

t.test('summarize: an empty run is all zeros, not NaN', async (t) => {
  t.same(summarize('app', [], 0), { arm: 'app', count: 0, ok: 0, successRate: 0, p50: 0, p95: 0, p99: 0, max: 0, fastFails: 0, throughput: 0, durationMs: 0 });
});

t.test('percentile: nearest rank on small inputs', async (t) => {
  t.equal(percentile([10], 99), 10);
  t.equal(percentile([1, 2, 3, 4], 50), 2);
  t.equal(percentile([1, 2, 3, 4], 51), 3);
  t.equal(percentile([1, 2, 3, 4], 100), 4);
  t.equal(percentile([1, 2, 3, 4], 0), 1);
});
