import type { LoadSummary, RequestRecord } from './types.js';

/** Nearest-rank percentile of an ascending array; 0 for an empty one. */
export function percentile(sortedAscending: readonly number[], p: number): number {
  if (sortedAscending.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sortedAscending.length);
  return sortedAscending[Math.min(sortedAscending.length, Math.max(1, rank)) - 1]!;
}

/** Pure summary of a run: latency percentiles over every record, failures included (a timeout is slow, not absent). */
export function summarize(arm: string, records: readonly RequestRecord[], durationMs: number): LoadSummary {
  const latencies = records.map((r) => r.latencyMs).sort((a, b) => a - b);
  const ok = records.filter((r) => r.ok).length;
  return {
    arm,
    count: records.length,
    ok,
    successRate: records.length === 0 ? 0 : ok / records.length,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.length === 0 ? 0 : latencies[latencies.length - 1]!,
    fastFails: records.filter((r) => r.fastFail).length,
    throughput: durationMs > 0 ? records.length / (durationMs / 1000) : 0,
    durationMs,
  };
}
