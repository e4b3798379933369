import { clock, type Clock } from '../core/clock.js';
import type { RouteContext } from './part.js';

const BUCKETS = 10;

/**
 * Finagle/Linkerd-style retry budget: over a sliding window, retries may add at most `ratio` of the requests seen,
 * plus `minPerSecond` so a quiet route can still retry. When it is spent, failures go back to the client at once
 * instead of multiplying load on a struggling upstream.
 */
export class RetryBudget {
  private readonly requests = new Array<number>(BUCKETS).fill(0);
  private readonly retries = new Array<number>(BUCKETS).fill(0);
  private readonly bucketMs: number;
  private bucket = 0;
  private bucketEnd: number;

  constructor(
    readonly policy: { ratio: number; minPerSecond: number; windowMs: number },
    private readonly time: Clock = clock,
  ) {
    this.bucketMs = policy.windowMs / BUCKETS;
    this.bucketEnd = time.time() + this.bucketMs;
  }

  /** Counts one request towards what retries may add. */
  recordRequest(): void {
    this.rotate();
    this.requests[this.bucket]!++;
  }

  /** Takes one retry from the budget; false when it is spent. */
  tryWithdraw(): boolean {
    this.rotate();
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < BUCKETS; i++) {
      requests += this.requests[i]!;
      retries += this.retries[i]!;
    }
    const allowed = this.policy.ratio * requests + (this.policy.minPerSecond * this.policy.windowMs) / 1000;
    if (retries + 1 > allowed) return false;
    this.retries[this.bucket]!++;
    return true;
  }

  private rotate(): void {
    const now = this.time.time();
    if (now < this.bucketEnd) return;
    const elapsed = Math.min(BUCKETS, Math.floor((now - this.bucketEnd) / this.bucketMs) + 1);
    for (let i = 0; i < elapsed; i++) {
      this.bucket = (this.bucket + 1) % BUCKETS;
      this.requests[this.bucket] = 0;
      this.retries[this.bucket] = 0;
    }
    this.bucketEnd += Math.ceil((now - this.bucketEnd + 1) / this.bucketMs) * this.bucketMs;
  }
}

/** The route's budget, one for the retries and the hedges of a route; its window survives a reload that keeps it. */
export function sharedRetryBudget({ policy, shared }: RouteContext): RetryBudget {
  const settings = policy.retry.budget;
  return shared('retry-budget', settings, () => ({ value: new RetryBudget(settings) }));
}
