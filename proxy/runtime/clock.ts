/**
 * One shared clock for every deadline, per-try timeout and queue wait: a hashed timer wheel driven by a single
 * unref'd interval that runs only while timers are pending. Creating and cancelling a timer is O(1) and allocates one
 * small object, instead of a Node Timeout per request.
 */
export interface Timer {
  cancel(): void;
}

const TICK_MS = 5;
const NOOP = () => {};
const SLOTS = 512;

class Entry implements Timer {
  cancelled = false;
  constructor(
    readonly at: number,
    public fn: () => void,
  ) {}

  cancel(): void {
    this.cancelled = true;
    // The entry waits in its slot until the wheel passes; release what the callback holds (an exchange, its headers
    // and body) now, or every cancelled deadline would keep its request alive for the full timeout.
    this.fn = NOOP;
  }
}

export class Clock {
  private readonly slots: Entry[][] = Array.from({ length: SLOTS }, () => []);
  private pending = 0;
  private cursor: number;
  private interval: NodeJS.Timeout | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.cursor = Math.floor(this.now() / TICK_MS);
  }

  /** Milliseconds on the clock's monotonic timeline. */
  time(): number {
    return this.now();
  }

  /** Runs fn at (or within one tick after) the absolute time `at`. */
  at(at: number, fn: () => void): Timer {
    const entry = new Entry(at, fn);
    if (this.interval === undefined) {
      this.cursor = Math.floor(this.now() / TICK_MS);
      this.interval = setInterval(() => this.advance(), TICK_MS);
      this.interval.unref();
    }
    // The slot of tick T is visited once now >= T * TICK_MS, so ceil() never fires early.
    const tick = Math.max(Math.ceil(at / TICK_MS), this.cursor + 1);
    this.slots[tick % SLOTS]!.push(entry);
    this.pending++;
    return entry;
  }

  after(ms: number, fn: () => void): Timer {
    return this.at(this.now() + ms, fn);
  }

  /**
   * Waits ms. Backoff and injected delays need millisecond precision more than they need sharing (they are rare
   * next to per-attempt deadlines, which are nearly always cancelled), so they use a plain timer.
   */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  private advance(): void {
    const target = Math.floor(this.now() / TICK_MS);
    while (this.cursor < target && this.pending > 0) {
      this.cursor++;
      const slot = this.slots[this.cursor % SLOTS]!;
      if (slot.length === 0) continue;
      const now = this.now();
      let keep = 0;
      for (let i = 0; i < slot.length; i++) {
        const entry = slot[i]!;
        if (entry.cancelled) {
          this.pending--;
        } else if (entry.at <= now) {
          this.pending--;
          entry.cancelled = true;
          entry.fn();
        } else {
          slot[keep++] = entry; // due on a later turn of the wheel
        }
      }
      slot.length = keep;
    }
    if (this.pending === 0) {
      clearInterval(this.interval);
      this.interval = undefined;
    }
  }
}

/** The process-wide clock. */
export const clock = new Clock();
