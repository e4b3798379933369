// Exact latency percentiles from a bounded sample buffer (microsecond resolution).

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
}
