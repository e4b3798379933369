/**
 * One shared clock for every deadline, per-try timeout and queue wait: a hashed timer wheel driven by a single
 * unref'd interval that runs only while timers are pending. Creating and cancelling a timer is O(1) and allocates one
 * small object, instead of a Node Timeout per request. A cancelled timer leaves its slot at once: nearly every
 * per-attempt deadline is cancelled within milliseconds, and one left waiting for the wheel to come round (up to a
 * second or more) outlived two young-generation collections and was copied into V8's old generation.
 */
export interface Timer {
  cancel(): void;
}

const TICK_MS = 5;
const SLOTS = 512;
/**
 * Ticks in a row that fire nothing before the clock looks for its next due entry: with only far-off timers pending (a
 * quiet tunnel's idle timeout, a long call's deadline) it then sleeps until shortly before that one, instead of
 * waking every tick for nothing.
 */
const QUIET_TICKS = 200;

class Entry implements Timer {
  /** The slot the entry waits in, and where; undefined once it has fired or been cancelled. */
  slot: Entry[] | undefined;
  index = 0;

  constructor(
    readonly at: number,
    readonly fn: (target: never) => void,
    /** Passed to fn: a per-request timer then needs no closure of its own. */
    readonly target: unknown,
    private readonly owner: Clock,
  ) {}

  cancel(): void {
    if (this.slot !== undefined) this.owner.unlink(this);
  }
}

export class Clock {
  private readonly slots: Entry[][] = Array.from({ length: SLOTS }, () => []);
  private pending = 0;
  private cursor: number;
  private interval: NodeJS.Timeout | undefined;
  /** Set while the clock sleeps through a quiet stretch (see QUIET_TICKS). */
  private wake: NodeJS.Timeout | undefined;
  private quietTicks = 0;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.cursor = Math.floor(this.now() / TICK_MS);
  }

  /** Whether the clock wakes every tick now: false with nothing pending, or while it sleeps through a quiet stretch. */
  get ticking(): boolean {
    return this.interval !== undefined;
  }

  /** Milliseconds on the clock's monotonic timeline. */
  time(): number {
    return this.now();
  }

  /** Runs fn at (or within one tick after) the absolute time `at`, with `target` as its argument. */
  at<T>(at: number, fn: (target: T) => void, target?: T): Timer {
    const entry = new Entry(at, fn as (target: never) => void, target, this);
    if (this.interval === undefined) this.start();
    // The slot of tick T is visited once now >= T * TICK_MS, so ceil() never fires early.
    const tick = Math.max(Math.ceil(at / TICK_MS), this.cursor + 1);
    const slot = this.slots[tick % SLOTS]!;
    entry.slot = slot;
    entry.index = slot.length;
    slot.push(entry);
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

  /** Takes a waiting entry out of its slot in O(1): the slot's last entry moves into its place. Entry.cancel() only. */
  unlink(entry: Entry): void {
    const slot = entry.slot!;
    const last = slot.pop()!;
    if (last !== entry) {
      slot[entry.index] = last;
      last.index = entry.index;
    }
    entry.slot = undefined;
    this.pending--;
  }

  private start(): void {
    if (this.wake !== undefined) {
      // Woken early by a new timer: the ticks slept through are caught up on the next advance, none skipped.
      clearTimeout(this.wake);
      this.wake = undefined;
    } else {
      this.cursor = Math.floor(this.now() / TICK_MS);
    }
    this.quietTicks = 0;
    this.interval = setInterval(() => this.advance(), TICK_MS);
    this.interval.unref();
  }

  private advance(): void {
    const target = Math.floor(this.now() / TICK_MS);
    let fired = false;
    while (this.cursor < target && this.pending > 0) {
      this.cursor++;
      const slot = this.slots[this.cursor % SLOTS]!;
      if (slot.length === 0) continue;
      const now = this.now();
      // Backwards, so an entry unlinked at i is replaced by one already looked at. A callback may cancel other
      // entries (the slot shrinks) or add some (always for a later tick, appended past i, so not looked at now).
      for (let i = slot.length - 1; i >= 0; i--) {
        const entry = slot[i];
        if (entry === undefined || entry.at > now) continue; // gone, or due on a later turn of the wheel
        this.unlink(entry);
        fired = true;
        entry.fn(entry.target as never);
      }
    }
    if (this.pending === 0) {
      clearInterval(this.interval);
      this.interval = undefined;
    } else if (fired) {
      this.quietTicks = 0;
    } else if (++this.quietTicks >= QUIET_TICKS) {
      this.quietTicks = 0;
      this.sleepUntilDue();
    }
  }

  /** With nothing due for a while, stops ticking until a tick before the earliest entry (or a new timer). */
  private sleepUntilDue(): void {
    let earliest = Infinity;
    for (const slot of this.slots) for (const entry of slot) if (entry.at < earliest) earliest = entry.at;
    const wait = earliest - this.now() - TICK_MS;
    if (wait < QUIET_TICKS * TICK_MS) return;
    clearInterval(this.interval);
    this.interval = undefined;
    this.wake = setTimeout(() => this.start(), wait);
    this.wake.unref();
  }
}

/** The process-wide clock. */
export const clock = new Clock();
