/**
 * Retries: only for the conditions the route lists, only when safe (idempotent, or nothing was sent), only while the
 * budget and the deadline allow; exponential backoff with jitter; Retry-After on 429/503 honoured when it fits.
 */
import type { RetryPolicy } from '../config/policy.js';
import { clock } from '../core/clock.js';
import { backoffDelay, retryAfterMs } from './backoff.js';
import { discard, type Exchange, type Layer, type RetrySkipReason, type UpstreamResponse } from '../core/exchange.js';
import { ProxyError } from '../core/proxy-error.js';
import { OUTCOMES } from '../core/outcome.js';
import type { PolicyPart } from './part.js';
import { sharedRetryBudget, type RetryBudget } from './retry-budget.js';

export interface RetryEvents {
  /** A retry is about to happen, caused by `reason` (a status code, or a failure kind). */
  retried(reason: string): void;
  skipped(reason: RetrySkipReason): void;
}

/** The retry condition a result matches under the policy, or undefined when it is not to be retried. */
function retryReason(policy: RetryPolicy, response: UpstreamResponse | undefined, error: ProxyError | undefined): string | undefined {
  if (response) return policy.on.statuses.has(response.status) ? String(response.status) : undefined;
  const kind = error!.kind;
  switch (OUTCOMES[kind].retriedOn) {
    case 'connect-failure':
      return policy.on.connectFailure ? kind : undefined;
    case 'reset':
      return policy.on.reset ? kind : undefined;
    case 'timeout':
      return policy.on.timeout ? kind : undefined;
    default:
      return undefined; // see OUTCOMES: retrying cannot help, or the request is over
  }
}

export function retryLayer(policy: RetryPolicy, budget: RetryBudget, events: RetryEvents): Layer {
  return (next) => async (exchange) => {
    budget.recordRequest();
    for (let attempt = 1; ; attempt++) {
      let response: UpstreamResponse | undefined;
      let error: ProxyError | undefined;
      try {
        response = await next(exchange);
      } catch (err) {
        if (!(err instanceof ProxyError)) throw err;
        error = err;
      }
      const reason = attempt < policy.attempts ? retryReason(policy, response, error) : undefined;
      const delay = reason === undefined ? 0 : retryDelay(policy, attempt, response);
      const skip = reason === undefined ? undefined : whyNotRetry(exchange, error, delay, budget);
      if (reason === undefined || skip !== undefined || exchange.scope.reason) {
        if (skip) {
          exchange.trace.retrySkipped = skip;
          events.skipped(skip);
        }
        if (response) return response;
        throw error;
      }
      if (response) discard(response);
      events.retried(reason);
      if (delay > 0) await exchange.scope.sleep(delay);
    }
  };
}

function retryDelay(policy: RetryPolicy, attempt: number, response: UpstreamResponse | undefined): number {
  const backoff = backoffDelay(attempt, policy.backoff);
  if (response && (response.status === 429 || response.status === 503)) {
    const asked = retryAfterMs(response.headers['retry-after']);
    if (asked !== undefined) return Math.max(asked, backoff);
  }
  return backoff;
}

/** Checked in this order so the budget is only spent on a retry that will really happen. */
function whyNotRetry(exchange: Exchange, error: ProxyError | undefined, delay: number, budget: RetryBudget): RetrySkipReason | undefined {
  if (exchange.body.kind === 'stream') return 'body-too-large';
  // A connect failure sent nothing, so any method may go again; otherwise the request may have had its effect.
  if (!exchange.idempotent && error?.kind !== 'connect-failure') return 'not-idempotent';
  if (clock.time() + delay >= exchange.scope.deadline) return 'deadline';
  if (!budget.tryWithdraw()) return 'budget';
  return undefined;
}

export const retryPart: PolicyPart = {
  name: 'retry',
  build(route) {
    const { policy, metrics } = route;
    if (policy.retry.attempts <= 1) return undefined;
    const name = policy.name;
    const retried = metrics.retries.cellsBy({ route: name }, 'reason');
    return retryLayer(policy.retry, sharedRetryBudget(route), {
      retried: (reason) => retried(reason).inc(),
      skipped: (reason) => {
        metrics.retriesSkipped.inc({ route: name, reason });
        if (reason === 'budget') metrics.retryBudgetExhausted.inc({ route: name });
      },
    });
  },
};
