import { LatencyHistogram } from './latency-histogram.js';
import { percentile } from './summary.js';
import type { RequestRecord } from './types.js';

export interface StatsFigures {
  count: number;
  ok: number;
  /** 0..1 */
  successRate: number;
  p50: number;
  p99: number;
  fastFails: number;
}

/** What GET /stats answers: figures since start at the top level, and the same figures over the recent window. */
export type StatsReport = StatsFigures & { window: StatsFigures & { seconds: number } };

interface WindowEntry {
  at: number;
  latencyMs: number;
  ok: boolean;
  fastFail: boolean;
}

/**
 * Bounded-memory statistics for the long-lived service: a ring of the most recent records (oldest overwritten when
 * full) for the window, and counters plus a log histogram since start.
 */
export class RollingStats {
  private readonly ring: (WindowEntry | undefined)[];
  private head = 0; // index of the oldest entry
  private size = 0;
  private readonly sinceStart = { count: 0, ok: 0, fastFails: 0, latency: new LatencyHistogram() };

  constructor(
    private readonly windowMs: number,
    capacity: number,
  ) {
    this.ring = new Array<WindowEntry | undefined>(capacity);
  }

  add(record: RequestRecord, at: number): void {
    this.sinceStart.count++;
    if (record.ok) this.sinceStart.ok++;
    if (record.fastFail) this.sinceStart.fastFails++;
    this.sinceStart.latency.record(record.latencyMs);
    const entry = { at, latencyMs: record.latencyMs, ok: record.ok, fastFail: record.fastFail };
    if (this.size === this.ring.length) {
      this.ring[this.head] = entry;
      this.head = (this.head + 1) % this.ring.length;
    } else {
      this.ring[(this.head + this.size) % this.ring.length] = entry;
      this.size++;
    }
  }

  report(now: number): StatsReport {
    this.evictOlderThan(now - this.windowMs);
    const recent: WindowEntry[] = [];
    for (let i = 0; i < this.size; i++) recent.push(this.ring[(this.head + i) % this.ring.length]!);
    const latencies = recent.map((e) => e.latencyMs).sort((a, b) => a - b);
    const { count, ok, fastFails, latency } = this.sinceStart;
    return {
      ...figures(count, ok, fastFails, latency.percentile(50), latency.percentile(99)),
      window: {
        seconds: this.windowMs / 1000,
        ...figures(recent.length, recent.filter((e) => e.ok).length, recent.filter((e) => e.fastFail).length, percentile(latencies, 50), percentile(latencies, 99)),
      },
    };
  }

  private evictOlderThan(cutoff: number): void {
    while (this.size > 0 && this.ring[this.head]!.at < cutoff) {
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.ring.length;
      this.size--;
    }
  }
}

function figures(count: number, ok: number, fastFails: number, p50: number, p99: number): StatsFigures {
  return { count, ok, successRate: count === 0 ? 0 : ok / count, p50, p99, fastFails };
}
