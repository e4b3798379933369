import CircuitBreaker from 'opossum';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { backoffDelayMs } from './backoff.js';
import { errorCode, sendAttempt } from './http-attempt.js';
import type { AppPolicy, Caller, CallOutcome } from './types.js';

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

/** Retried like the sidecar retries: no answer (connect failure, reset, timeout), 5xx and 429. */
function isRetryable(outcome: CallOutcome): boolean {
  return outcome.status === 0 || outcome.status >= 500 || outcome.status === 429;
}

/** Counted by the breaker like the sidecar's failOn [5xx, timeout, connect-failure]. */
function isBreakerFailure(outcome: CallOutcome): boolean {
  return outcome.status === 0 || outcome.status >= 500;
}

/**
 * The `app` arm: resilience written into the client itself, as the seed labs did with pybreaker + tenacity.
 * An opossum breaker sits OUTSIDE the retries (one logical call = one breaker event), each attempt has its own
 * AbortSignal deadline (opossum's timeout would not cancel the request), and backoff is exponential with jitter.
 */
export class AppResilientCaller implements Caller {
  private readonly agent = new Agent({ keepAliveTimeout: 4_000 });
  private readonly breaker: CircuitBreaker<[AbortSignal | undefined], CallOutcome>;
  private consecutiveFailures = 0;

  constructor(private readonly options: AppCallerOptions) {
    const { breaker } = options.policy;
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
    try {
      return await this.breaker.fire(signal);
    } catch (err) {
      if (err instanceof CountedFailure) return err.outcome;
      if (errorCode(err) === 'EOPENBREAKER') return { status: 0, error: 'EOPENBREAKER', attempts: 0, fastFail: true };
      return { status: 0, error: errorCode(err), fastFail: false };
    }
  }

  private async callWithRetries(signal: AbortSignal | undefined): Promise<CallOutcome> {
    const { retry } = this.options.policy;
    let outcome: CallOutcome = { status: 0, fastFail: false };
    for (let attempt = 1; attempt <= retry.attempts; attempt++) {
      outcome = { ...(await this.attempt(signal)), attempts: attempt };
      if (!isRetryable(outcome) || attempt === retry.attempts || signal?.aborted) break;
      try {
        await sleep(backoffDelayMs(attempt, retry, this.options.random), undefined, { signal });
      } catch {
        break; // shutting down: report what the last attempt saw
      }
    }
    if (isBreakerFailure(outcome)) throw new CountedFailure(outcome);
    return outcome;
  }

  private async attempt(signal: AbortSignal | undefined): Promise<CallOutcome> {
    const deadline = AbortSignal.timeout(this.options.policy.timeoutMs);
    try {
      const { status } = await sendAttempt(this.agent, this.options.url, this.options.method, signal ? AbortSignal.any([signal, deadline]) : deadline);
      return { status, fastFail: false };
    } catch (err) {
      return { status: 0, error: deadline.aborted ? 'timeout' : errorCode(err), fastFail: false };
    }
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
    await this.agent.close();
  }
}
