import { performance } from 'node:perf_hooks';

export interface OpenLoopSchedule {
  /** Requests per second. */
  rate: number;
  /** Infinity: until `signal` aborts. */
  durationMs: number;
  signal?: AbortSignal;
}

/** Called for each request when it falls due; `scheduledAt` is its performance.now() send time by the schedule. */
export type ReleaseRequest = (seq: number, scheduledAt: number) => void;

/**
 * Open-loop schedule: request `seq` is due at start + seq/rate whatever happened to earlier ones, so a slow server
 * cannot slow the sender down (no coordinated omission). A single timer releases every request that is due, so a late
 * tick catches up instead of timers piling up. Resolves with the load start time once the last request is released.
 */
export async function runOpenLoop(schedule: OpenLoopSchedule, release: ReleaseRequest): Promise<{ startedAt: number; released: number }> {
  const intervalMs = 1000 / schedule.rate;
  const total = Number.isFinite(schedule.durationMs) ? Math.ceil((schedule.durationMs * schedule.rate) / 1000) : Infinity;
  const startedAt = performance.now();
  let released = 0;
  while (released < total && !schedule.signal?.aborted) {
    const now = performance.now();
    while (released < total && startedAt + released * intervalMs <= now) {
      release(released, startedAt + released * intervalMs);
      released++;
    }
    if (released >= total) break;
    await sleepUntil(startedAt + released * intervalMs, schedule.signal);
  }
  return { startedAt, released };
}

function sleepUntil(time: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, time - performance.now()));
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
