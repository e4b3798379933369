const GROWTH = 1.05;

/**
 * Fixed-memory latency distribution for "since start" in the long-lived service: log-spaced buckets (5% wide) so a
 * percentile is reported as its bucket's upper bound, at most 5% high, however long the service runs.
 */
export class LatencyHistogram {
  private readonly buckets = new Map<number, number>();
  private total = 0;
  private maxSeen = 0;

  record(latencyMs: number): void {
    const index = latencyMs <= 1 ? 0 : Math.ceil(Math.log(latencyMs) / Math.log(GROWTH));
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + 1);
    this.total++;
    this.maxSeen = Math.max(this.maxSeen, latencyMs);
  }

  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (const index of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(index)!;
      if (seen >= rank) return Math.min(GROWTH ** index, this.maxSeen);
    }
    return this.maxSeen;
  }
}
