/**
 * The one owner of a request's lifetime. Whatever a request takes (a bulkhead slot, a half-open probe permit, a replay
 * buffer, its policy generation) is registered here at the moment it is taken, and released exactly once when the
 * request ends, however it ends: answered, cut by its deadline, or abandoned by its client at any stage. Whatever
 * waits on the request's behalf (a queue, a backoff, an injected delay, an attempt, a response body) listens for
 * `abort` and stops at once, so a request whose client has gone is never sent upstream.
 *
 * The route deadline lives here too: one timer on the shared clock per request, from the arrival of its head.
 * An attempt that may be cancelled on its own (a hedge that lost its race) runs in a fork: aborting the request
 * aborts every fork, aborting a fork stops only what waits on it.
 */
import { clock, type Timer } from './clock.js';
import { ProxyError } from './proxy-error.js';

/** Whatever waits or works on the request's behalf: told once, with the reason, when the request is stopped. */
export interface AbortListener {
  abort(reason: ProxyError): void;
}

/** What a layer sees of a request's lifetime: the request's own scope, or an attempt's fork of it. */
export interface Scope {
  /** Absolute time (clock.time()) after which nothing may run for this request; Infinity without a deadline. */
  readonly deadline: number;
  /** Why it was stopped early (client gone, deadline, cancelled), once; undefined while it may go on. */
  readonly reason: ProxyError | undefined;
  /**
   * Registers the release of something the request has just taken. It runs exactly once, when the request ends; if
   * the request has already ended (its client left while it waited for the thing), it runs now and this throws the
   * reason, so the caller does not go on with a request nobody waits for.
   */
  hold(release: () => void): void;
  /** Throws the reason it was stopped, if it was. */
  throwIfAborted(): void;
  /** Tells `listener` once if it is stopped (at once if it already was), until offAbort(listener). */
  onAbort(listener: AbortListener): void;
  offAbort(listener: AbortListener): void;
  /** Waits `ms`, or rejects with the reason as soon as it is stopped. */
  sleep(ms: number): Promise<void>;
  /** An attempt's own scope: aborted with this one, or alone (a hedge that lost); holds and the deadline are this one's. */
  fork(): ForkedScope;
}

/** Tells every listener, once, why the work it waits on was stopped. */
abstract class AbortFanout implements Scope {
  reason: ProxyError | undefined;
  protected listeners: AbortListener[] | undefined;
  abstract readonly deadline: number;
  abstract hold(release: () => void): void;

  throwIfAborted(): void {
    if (this.reason) throw this.reason;
  }

  onAbort(listener: AbortListener): void {
    if (this.reason) return listener.abort(this.reason);
    (this.listeners ??= []).push(listener);
  }

  offAbort(listener: AbortListener): void {
    const listeners = this.listeners;
    const index = listeners ? listeners.indexOf(listener) : -1;
    if (index !== -1) listeners!.splice(index, 1);
  }

  /** Stops it: every waiter and attempt is told why, once. */
  abort(reason: ProxyError): void {
    if (this.reason) return;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener.abort(reason);
  }

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

  fork(): ForkedScope {
    return new ForkedScope(this);
  }
}

export class RequestScope extends AbortFanout {
  deadline = Infinity;
  private ended = false;
  /** The first release on its own: most requests hold one or two things, and need no array for them. */
  private release: (() => void) | undefined;
  private releases: Array<() => void> | undefined;
  private deadlineTimer: Timer | undefined;
  private deadlineMessage = '';

  /** Sets the deadline `timeoutMs` after `from`, and aborts the request with a `deadline` error when it passes. */
  armDeadline(from: number, timeoutMs: number, message: string): void {
    this.deadline = from + timeoutMs;
    this.deadlineMessage = message;
    this.deadlineTimer = clock.at(this.deadline, RequestScope.deadlinePassed, this);
  }

  hold(release: () => void): void {
    if (this.ended) {
      release();
      throw this.reason ?? new ProxyError('client-gone', 'the request ended while it waited');
    }
    if (this.release === undefined) this.release = release;
    else (this.releases ??= []).push(release);
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

/** A fork listens to its parent for as long as the request lives: the parent's end drops every listener at once. */
export class ForkedScope extends AbortFanout implements AbortListener {
  constructor(private readonly parent: AbortFanout) {
    super();
    parent.onAbort(this);
  }

  get deadline(): number {
    return this.parent.deadline;
  }

  hold(release: () => void): void {
    this.parent.hold(release);
  }
}
