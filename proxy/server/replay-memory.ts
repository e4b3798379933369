/**
 * The process-wide bound on request bodies kept in memory for replay (`memory.replayBuffers`). Buffers live outside
 * V8's heap, so its cap does not bound them: thousands of clients each sending most of a body and stalling would run
 * the pod out of memory. Past the bound a body streams through once instead and is not retried.
 */
export class ReplayMemory {
  /** Bytes held by bodies being read or kept for replay. */
  used = 0;

  constructor(public limitBytes: number) {}

  /** Takes `bytes` from the bound; false (and nothing taken) when they do not fit. */
  tryReserve(bytes: number): boolean {
    if (this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }
}
