/**
 * A route's recent attempt latencies, for a percentile that follows the route as it is now: counts in buckets 10%
 * apart (so a percentile is right to within 10%), over the last one to two windows. Recording is one increment; a
 * percentile is worked out at most once per refresh period and reused in between.
 */
import { clock, type Clock } from '../core/clock.js';

const SMALLEST_MS = 0.1;
const GROWTH = 1.1;
const BUCKETS = Math.ceil(Math.log(600_000 / SMALLEST_MS) / Math.log(GROWTH)) + 1; // 0.1 ms to 10 minutes
const LOG_GROWTH = Math.log(GROWTH);
/** Fewer samples than this say too little of the tail: no percentile yet. */
export const MIN_SAMPLES = 20;
const REFRESH_MS = 100;

export class LatencyWindow {
  private current = new Uint32Array(BUCKETS);
  private previous = new Uint32Array(BUCKETS);
  private samples = 0;
  private rotateAt: number;
  /** The last percentile worked out, reused until cachedUntil (a route asks for one percentile). */
  private cachedPercentile = NaN;
  private cachedValue: number | undefined;
  private cachedUntil = 0;

  constructor(
    private readonly windowMs = 10_000,
    private readonly time: Clock = clock,
  ) {
    this.rotateAt = time.time() + windowMs;
  }

  record(ms: number): void {
    this.rotate();
    const index = ms <= SMALLEST_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / SMALLEST_MS) / LOG_GROWTH));
    this.current[index]!++;
    this.samples++;
  }

  /** The latency below which `p` percent of recent attempts answered, in ms; undefined before MIN_SAMPLES. */
  percentile(p: number): number | undefined {
    const now = this.time.time();
    if (now < this.cachedUntil && p === this.cachedPercentile) return this.cachedValue;
    this.cachedPercentile = p;
    this.cachedValue = this.compute(p);
    this.cachedUntil = now + REFRESH_MS;
    return this.cachedValue;
  }

  private compute(p: number): number | undefined {
    this.rotate();
    if (this.samples < MIN_SAMPLES) return undefined;
    const rank = Math.ceil((this.samples * p) / 100);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.current[i]! + this.previous[i]!;
      if (seen >= rank) return SMALLEST_MS * GROWTH ** i;
    }
    return SMALLEST_MS * GROWTH ** (BUCKETS - 1);
  }

  private rotate(): void {
    const now = this.time.time();
    if (now < this.rotateAt) return;
    const recycled = this.previous.fill(0);
    // Nothing recorded for a whole window: both halves are stale.
    if (now >= this.rotateAt + this.windowMs) this.current.fill(0);
    this.previous = this.current;
    this.current = recycled;
    this.samples = 0;
    for (let i = 0; i < BUCKETS; i++) this.samples += this.previous[i]!;
    this.rotateAt = now + this.windowMs;
  }
}
