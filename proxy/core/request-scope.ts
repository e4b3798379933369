/**
 * The one owner of a request's lifetime. Whatever a request takes (a bulkhead slot, a half-open probe permit, a replay
 * buffer, its policy generation) is registered here at the moment it is taken, and released exactly once when the
 * request ends, however it ends: answered, cut by its deadline, or abandoned by its client at any stage. Whatever
 * waits on the request's behalf (a queue, a backoff, an injected delay, an attempt, a response body) listens for
 * `abort` and stops at once, so a request whose client has gone is never sent upstream.
 *
 * The route deadline lives here too: one timer on the shared clock per request, from the arrival of its head.
 */
import { clock, type Timer } from './clock.js';
import { ProxyError } from './proxy-error.js';

/** Whatever waits or works on the request's behalf: told once, with the reason, when the request is stopped. */
export interface AbortListener {
  abort(reason: ProxyError): void;
}

export class RequestScope {
  /** Absolute time (clock.time()) after which nothing may run for this request; Infinity without a deadline. */
  deadline = Infinity;
  /** Why the request was stopped early (client gone, deadline), once; undefined while it may go on. */
  reason: ProxyError | undefined;
  private ended = false;
  /** The first release on its own: most requests hold one or two things, and need no array for them. */
  private release: (() => void) | undefined;
  private releases: Array<() => void> | undefined;
  private listeners: AbortListener[] | undefined;
  private deadlineTimer: Timer | undefined;
  private deadlineMessage = '';

  /** Sets the deadline `timeoutMs` after `from`, and aborts the request with a `deadline` error when it passes. */
  armDeadline(from: number, timeoutMs: number, message: string): void {
    this.deadline = from + timeoutMs;
    this.deadlineMessage = message;
    this.deadlineTimer = clock.at(this.deadline, RequestScope.deadlinePassed, this);
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
    if (this.release === undefined) this.release = release;
    else (this.releases ??= []).push(release);
  }

  /** Throws the reason the request was stopped, if it was. */
  throwIfAborted(): void {
    if (this.reason) throw this.reason;
  }

  /** Tells `listener` once if the request is stopped (at once if it already was), until offAbort(listener). */
  onAbort(listener: AbortListener): void {
    if (this.reason) return listener.abort(this.reason);
    (this.listeners ??= []).push(listener);
  }

  offAbort(listener: AbortListener): void {
    const listeners = this.listeners;
    const index = listeners ? listeners.indexOf(listener) : -1;
    if (index !== -1) listeners!.splice(index, 1);
  }

  /** Stops the request: every waiter and attempt is told why, once. */
  abort(reason: ProxyError): void {
    if (this.reason) return;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener.abort(reason);
  }

  /** Waits `ms`, or rejects with the reason as soon as the request is aborted. */
  sleep(ms: number): Promise<void> {
    if (this.reason) return Promise.reject(this.reason);
    return new Promise((resolve, reject) => {
      const waiting: AbortListener = {
        abort: (reason) => {
          clearTimeout(timer);
          reject(reason);
        },
      };
      const timer = setTimeout(() => {
        this.offAbort(waiting);
        resolve();
      }, ms);
      this.onAbort(waiting);
    });
  }

  /** The request is over: runs every release once and cancels the deadline. Later holds release at once. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.deadlineTimer?.cancel();
    this.deadlineTimer = undefined;
    this.listeners = undefined;
    const first = this.release;
    const releases = this.releases;
    this.release = undefined;
    this.releases = undefined;
    first?.();
    if (releases) for (const release of releases) release();
  }

  /** The deadline timer's callback (one function for every request; the scope is its argument). */
  static deadlinePassed(scope: RequestScope): void {
    scope.deadlineTimer = undefined;
    scope.abort(new ProxyError('deadline', scope.deadlineMessage));
  }

  get isEnded(): boolean {
    return this.ended;
  }
}
