// Exact latency percentiles from a bounded sample buffer (microsecond resolution).
import type { LoadResult } from './load-types.js';

/** A monotonic clock in microseconds, what every closed-loop load times its calls with. */
export const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

export interface LatencySummary {
  count: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

export class LatencyRecorder {
  private readonly samples: Float64Array;
  private count = 0;

  constructor(capacity: number) {
    this.samples = new Float64Array(capacity);
  }

  /** Returns false once full, so a load loop can stop instead of growing memory. */
  record(latencyUs: number): boolean {
    if (this.count >= this.samples.length) return false;
    this.samples[this.count++] = latencyUs;
    return true;
  }

  summary(): LatencySummary {
    const sorted = this.samples.slice(0, this.count).sort();
    const at = (quantile: number): number =>
      sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1)];
    return { count: this.count, p50Us: at(0.5), p99Us: at(0.99), maxUs: at(1) };
  }

  /** A closed-loop load's result: what was recorded since `startUs`, and its failures. */
  result(generator: LoadResult['generator'], startUs: number, failures: Pick<LoadResult, 'non2xx' | 'socketErrors'>): LoadResult {
    const summary = this.summary();
    const durationS = (nowUs() - startUs) / 1e6;
    return { generator, requests: summary.count, durationS, rps: summary.count / durationS, p50Us: summary.p50Us, p99Us: summary.p99Us, ...failures };
  }
}
