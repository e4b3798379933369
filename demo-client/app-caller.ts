import CircuitBreaker from 'opossum';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { retryAfterMs } from '../proxy/policies/backoff.js';
import { RetryBudget } from '../proxy/policies/retry-budget.js';
import { backoffDelayMs } from './backoff.js';
import { errorCode, headerValue, sendAttempt } from './http-attempt.js';
import type { AppPolicy, Caller, CallOutcome, RetryOn } from './types.js';

export interface AppCallerOptions {
  url: string;
  method: string;
  policy: AppPolicy;
  random?: () => number;
}

/** Carries a final outcome the breaker must count as a failure (5xx, timeout, connect failure) out of opossum. */
class CountedFailure extends Error {
  constructor(readonly outcome: CallOutcome) {
    super(outcome.error ?? `status ${outcome.status}`);
  }
}

/** One attempt's outcome, with what a retry decision needs to know about it. */
interface AttemptOutcome extends CallOutcome {
  /** Retry-After on a 429/503, in ms. */
  retryAfterMs?: number;
}

/** Retried like the sidecar retries (its retry.on); without one, on no answer, any 5xx and 429. */
function isRetryable(outcome: CallOutcome, on: RetryOn | undefined): boolean {
  if (!on) return outcome.status === 0 || outcome.status >= 500 || outcome.status === 429;
  if (outcome.status !== 0) return on.statuses.includes(outcome.status);
  if (outcome.error === 'timeout') return on.timeout;
  return CONNECT_FAILURES.has(outcome.error ?? '') ? on.connectFailure : on.reset;
}

/** Errors that mean the request never reached the server, so any method may go again. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'ConnectTimeoutError']);

/** Counted by the breaker like the sidecar's failOn [5xx, timeout, connect-failure]. */
function isBreakerFailure(outcome: CallOutcome): boolean {
  return outcome.status === 0 || outcome.status >= 500;
}

/**
 * The `app` arm: resilience written into the client itself, as the seed labs did with pybreaker + tenacity.
 * An opossum breaker sits OUTSIDE the retries (one logical call = one breaker event), each attempt has its own
 * AbortSignal deadline (opossum's timeout would not cancel the request) inside the call's overall deadline, backoff is
 * exponential with jitter and waits at least what a 429/503 asks for in Retry-After, and a Finagle-style retry budget
 * (the same class the sidecar uses) caps what retries add.
 */
export class AppResilientCaller implements Caller {
  private readonly agent = new Agent({ keepAliveTimeout: 4_000 });
  private readonly breaker: CircuitBreaker<[AbortSignal | undefined], CallOutcome>;
  private consecutiveFailures = 0;
  private readonly budget?: RetryBudget;

  constructor(private readonly options: AppCallerOptions) {
    const { breaker } = options.policy;
    if (options.policy.retry.budget) this.budget = new RetryBudget(options.policy.retry.budget);
    this.breaker = new CircuitBreaker((signal: AbortSignal | undefined) => this.callWithRetries(signal), {
      timeout: false,
      errorThresholdPercentage: breaker.errorThresholdPercentage,
      volumeThreshold: breaker.volumeThreshold,
      rollingCountTimeout: breaker.windowMs,
      rollingCountBuckets: 10,
      resetTimeout: breaker.resetTimeoutMs,
      // Both default on and sort/emit on every event: wasted work on a load generator's hot path.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    this.trackConsecutiveFailures(breaker.consecutiveFailures);
  }

  /** opossum only knows a rolling error percentage; the consecutive-failures trip is built on its events. */
  private trackConsecutiveFailures(limit: number | undefined): void {
    if (limit === undefined) return;
    this.breaker.on('success', () => {
      this.consecutiveFailures = 0;
    });
    this.breaker.on('failure', () => {
      this.consecutiveFailures++;
      if (this.consecutiveFailures >= limit && this.breaker.closed) this.breaker.open();
    });
    this.breaker.on('open', () => {
      this.consecutiveFailures = 0;
    });
  }

  async call(signal?: AbortSignal): Promise<CallOutcome> {
    const { deadlineMs } = this.options.policy;
    const callSignal = deadlineMs === undefined ? signal : anySignal(signal, AbortSignal.timeout(deadlineMs));
    try {
      return await this.breaker.fire(callSignal);
    } catch (err) {
      if (err instanceof CountedFailure) return err.outcome;
      if (errorCode(err) === 'EOPENBREAKER') return { status: 0, error: 'EOPENBREAKER', attempts: 0, fastFail: true };
      return { status: 0, error: errorCode(err), fastFail: false };
    }
  }

  private async callWithRetries(signal: AbortSignal | undefined): Promise<CallOutcome> {
    const { retry, deadlineMs } = this.options.policy;
    const deadlineAt = deadlineMs === undefined ? Infinity : performance.now() + deadlineMs;
    this.budget?.recordRequest();
    let outcome: AttemptOutcome = { status: 0, fastFail: false };
    for (let attempt = 1; attempt <= retry.attempts; attempt++) {
      const { retryAfterMs: asked, ...seen } = await this.attempt(signal);
      outcome = { ...seen, attempts: attempt };
      if (!isRetryable(outcome, retry.on) || attempt === retry.attempts || signal?.aborted) break;
      const delay = Math.max(asked ?? 0, backoffDelayMs(attempt, retry, this.options.random));
      // As the sidecar does: no retry that cannot start before the deadline, none beyond the budget.
      if (performance.now() + delay >= deadlineAt || (this.budget && !this.budget.tryWithdraw())) break;
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        break; // the deadline passed or the load is shutting down: report what the last attempt saw
      }
    }
    if (outcome.status === 0 && signal?.aborted && outcome.error !== 'timeout') outcome = { ...outcome, error: 'timeout' };
    if (isBreakerFailure(outcome)) throw new CountedFailure(outcome);
    return outcome;
  }

  private async attempt(signal: AbortSignal | undefined): Promise<AttemptOutcome> {
    const perTry = AbortSignal.timeout(this.options.policy.timeoutMs);
    try {
      const { status, headers, replica } = await sendAttempt(this.agent, this.options.url, this.options.method, anySignal(signal, perTry));
      const asked = status === 429 || status === 503 ? retryAfterMs(headerValue(headers, 'retry-after')) : undefined;
      return { status, fastFail: false, ...(replica ? { replica } : {}), ...(asked !== undefined ? { retryAfterMs: asked } : {}) };
    } catch (err) {
      return { status: 0, error: perTry.aborted || signal?.aborted ? 'timeout' : errorCode(err), fastFail: false };
    }
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
    await this.agent.close();
  }
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}
