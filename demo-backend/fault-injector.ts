import type { Faults } from './faults.js';
import { mulberry32, type RandomSource } from './random.js';

/** What an /api/* handler should do with the request in hand. */
export type FaultOutcome =
  | { kind: 'answer' }
  | { kind: 'hang' }
  | { kind: 'fail'; status: number }
  | { kind: 'delay'; ms: number }
  | { kind: 'throttle'; retryAfterSeconds: number };

const ANSWER: FaultOutcome = { kind: 'answer' };

/**
 * Holds the live fault settings and decides each request's fate. Every decision draws a fixed number of random
 * values, so the same seed and request sequence give the same faults.
 */
export class FaultInjector {
  #faults: Faults;
  #random: RandomSource;

  constructor(private readonly startup: Faults) {
    this.#faults = { ...startup };
    this.#random = mulberry32(startup.seed);
  }

  get current(): Faults {
    return { ...this.#faults };
  }

  update(patch: Partial<Faults>): Faults {
    this.#faults = { ...this.#faults, ...patch };
    if (patch.seed !== undefined) this.#random = mulberry32(patch.seed);
    return this.current;
  }

  reset(): Faults {
    this.#faults = { ...this.startup };
    this.#random = mulberry32(this.startup.seed);
    return this.current;
  }

  /** Faults that apply to every /api/* route before its own: hang, then the failNext countdown. */
  forced(): FaultOutcome {
    if (this.#faults.hang) return { kind: 'hang' };
    if (this.#faults.failNext > 0) {
      this.#faults.failNext -= 1;
      return { kind: 'fail', status: this.#faults.failureStatus };
    }
    return ANSWER;
  }

  /** /api/data: fail at failureRate, otherwise delay at slowRate. */
  forData(): FaultOutcome {
    const failDraw = this.#random.next();
    const slowDraw = this.#random.next();
    if (failDraw < this.#faults.failureRate) return { kind: 'fail', status: this.#faults.failureStatus };
    if (slowDraw < this.#faults.slowRate) return { kind: 'delay', ms: this.#faults.slowDelay };
    return ANSWER;
  }

  /** /api/transient: 429 with Retry-After at transientRate. */
  forTransient(): FaultOutcome {
    if (this.#random.next() < this.#faults.transientRate) {
      return { kind: 'throttle', retryAfterSeconds: this.#faults.retryAfter };
    }
    return ANSWER;
  }
}
