/**
 * Bulkhead: at most `maxConcurrent` requests hold a slot, at most `maxPending` wait for one (each no longer than
 * `queueTimeout`), the rest are turned away at once. One hanging dependency then fills only its own compartment.
 */
import { clock, type Timer } from '../core/clock.js';
import type { Layer } from '../core/exchange.js';
import { ProxyError } from '../core/proxy-error.js';
import type { Scope } from '../core/request-scope.js';
import type { PolicyPart } from './part.js';

export interface BulkheadLimits {
  maxConcurrent: number;
  maxPending: number;
  queueTimeoutMs: number;
}

export interface BulkheadEvents {
  rejected(reason: 'queue-full' | 'queue-timeout'): void;
}

interface Waiter {
  grant: () => void;
  timer: Timer;
  done: boolean;
  /** Told when the request is stopped while it waits: it leaves the queue. */
  abort(reason: Error): void;
}

export class Bulkhead {
  active = 0;
  /** Waiters still waiting; the array below may also hold ones that timed out, skipped on release. */
  queued = 0;
  private readonly queue: Waiter[] = [];
  private queueHead = 0;

  constructor(
    readonly limits: BulkheadLimits,
    private readonly events: BulkheadEvents,
    /** Names the compartment in the rejection header and message, e.g. `upstream "backend"`. */
    private readonly label: string,
  ) {}

  /**
   * Resolves once a slot is held; rejects with a 503 ProxyError when the queue is full or the wait too long, and with
   * the scope's reason when the request is aborted (its client left, its deadline passed) while it waits: the waiter
   * leaves the queue then, so an abandoned request never takes a slot.
   */
  acquire(scope: Pick<Scope, 'onAbort' | 'offAbort'>): Promise<void> | undefined {
    if (this.active < this.limits.maxConcurrent && this.queued === 0) {
      this.active++;
      return undefined; // the fast path allocates nothing
    }
    if (this.queued >= this.limits.maxPending) return Promise.reject(this.reject('queue-full'));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        done: false,
        grant: () => {
          scope.offAbort(waiter);
          resolve();
        },
        timer: clock.after(this.limits.queueTimeoutMs, () => waiter.abort(this.reject('queue-timeout'))),
        abort: (err) => {
          waiter.done = true;
          waiter.timer.cancel();
          scope.offAbort(waiter);
          this.queued--;
          reject(err);
        },
      };
      this.queue.push(waiter);
      this.queued++;
      scope.onAbort(waiter);
    });
  }

  release(): void {
    while (this.queueHead < this.queue.length) {
      const waiter = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined as unknown as Waiter;
      if (waiter.done) continue;
      waiter.done = true;
      waiter.timer.cancel();
      this.queued--;
      this.compact();
      waiter.grant(); // the slot passes straight to the waiter
      return;
    }
    this.compact();
    this.active--;
  }

  private compact(): void {
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    } else if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
  }

  private reject(reason: 'queue-full' | 'queue-timeout'): ProxyError {
    this.events.rejected(reason);
    return new ProxyError('bulkhead-rejected', `${this.label} is at capacity (${reason})`, {
      'x-breakwater-bulkhead': 'rejected',
    });
  }
}

/** Holds a slot from the start of the request until its response has been passed on (or abandoned). */
export function bulkheadLayer(bulkhead: Bulkhead): Layer {
  const release = () => bulkhead.release(); // one function for every request, not one each
  return (next) => (exchange) => {
    const held = () => {
      exchange.scope.hold(release);
      return next(exchange);
    };
    const waiting = bulkhead.acquire(exchange.scope);
    // A free slot (the common case) goes straight on, without an extra promise and microtask turn.
    return waiting ? waiting.then(held) : held();
  };
}

/** A route's own compartment (`maxConcurrent`): no queue, the excess is turned away at once. */
export const routeBulkheadPart: PolicyPart = {
  name: 'route-bulkhead',
  build({ policy, metrics, shared }) {
    if (policy.maxConcurrent === undefined) return undefined;
    const route = policy.name;
    const limits: BulkheadLimits = { maxConcurrent: policy.maxConcurrent, maxPending: 0, queueTimeoutMs: 0 };
    const bulkhead = shared('route-bulkhead', limits, () => {
      const built = new Bulkhead(limits, metrics.bulkheadEvents('route', route), `route "${route}"`);
      return {
        value: built,
        activate: () => metrics.exportBulkhead('route', route, built),
        dispose: () => metrics.forgetBulkhead('route', route, built),
      };
    });
    return bulkheadLayer(bulkhead);
  },
};
