/**
 * The one owner of a request's lifetime. Whatever a request takes (a bulkhead slot, a half-open probe permit, a replay
 * buffer, its policy generation) is registered here at the moment it is taken, and released exactly once when the
 * request ends, however it ends: answered, cut by its deadline, or abandoned by its client at any stage. Whatever
 * waits on the request's behalf (a queue, a backoff, an injected delay, an attempt, a response body) listens for
 * `abort` and stops at once, so a request whose client has gone is never sent upstream.
 *
 * The route deadline lives here too: one timer on the shared clock per request, from the arrival of its head.
 */
import { clock, type Timer } from '../runtime/clock.js';
import { ProxyError } from './exchange.js';

export type AbortListener = (reason: ProxyError) => void;

export class RequestScope {
  /** Absolute time (clock.time()) after which nothing may run for this request; Infinity without a deadline. */
  deadline = Infinity;
  /** Why the request was stopped early (client gone, deadline), once; undefined while it may go on. */
  reason: ProxyError | undefined;
  private ended = false;
  private releases: Array<() => void> | undefined;
  private listeners: AbortListener[] | undefined;
  private deadlineTimer: Timer | undefined;

  /** Sets the deadline `timeoutMs` after `from`, and aborts the request with a `deadline` error when it passes. */
  armDeadline(from: number, timeoutMs: number, message: string): void {
    this.deadline = from + timeoutMs;
    this.deadlineTimer = clock.at(this.deadline, () => {
      this.deadlineTimer = undefined;
      this.abort(new ProxyError('deadline', message));
    });
  }

  /**
   * Registers the release of something the request has just taken. It runs exactly once, when the request ends; if
   * the request has already ended (its client left while it waited for the thing), it runs now and this throws the
   * reason, so the caller does not go on with a request nobody waits for.
   */
  hold(release: () => void): void {
    if (this.ended) {
      release();
      throw this.reason ?? new ProxyError('client-gone', 'the request ended while it waited');
    }
    (this.releases ??= []).push(release);
  }

  /** Throws the reason the request was stopped, if it was. */
  throwIfAborted(): void {
    if (this.reason) throw this.reason;
  }

  /** Calls `listener` once if the request is aborted; the returned function stops listening. */
  onAbort(listener: AbortListener): () => void {
    if (this.reason) {
      listener(this.reason);
      return noop;
    }
    (this.listeners ??= []).push(listener);
    return () => {
      const listeners = this.listeners;
      if (!listeners) return;
      const index = listeners.indexOf(listener);
      if (index !== -1) listeners.splice(index, 1);
    };
  }

  /** Stops the request: every waiter and attempt is told why, once. */
  abort(reason: ProxyError): void {
    if (this.reason) return;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener(reason);
  }

  /** Waits `ms`, or rejects with the reason as soon as the request is aborted. */
  sleep(ms: number): Promise<void> {
    if (this.reason) return Promise.reject(this.reason);
    return new Promise((resolve, reject) => {
      let stop: () => void = noop;
      const timer = setTimeout(() => {
        stop();
        resolve();
      }, ms);
      stop = this.onAbort((reason) => {
        clearTimeout(timer);
        reject(reason);
      });
    });
  }

  /** The request is over: runs every release once and cancels the deadline. Later holds release at once. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.deadlineTimer?.cancel();
    this.deadlineTimer = undefined;
    this.listeners = undefined;
    const releases = this.releases;
    this.releases = undefined;
    if (releases) for (const release of releases) release();
  }

  get isEnded(): boolean {
    return this.ended;
  }
}

function noop(): void {}
