/**
 * Retries: only for the conditions the route lists, only when safe (idempotent, nothing was sent, or a gRPC status the
 * route names), only while the budget and the deadline allow; exponential backoff with jitter; Retry-After on 429/503
 * and gRPC's grpc-retry-pushback-ms honoured when they fit (a pushback that is no number says: do not retry).
 */
import type { RetryPolicy } from '../config/policy.js';
import { clock } from '../core/clock.js';
import { backoffDelay, retryAfterMs } from './backoff.js';
import { discard, replayable, type Exchange, type Layer, type RetrySkipReason, type UpstreamResponse } from '../core/exchange.js';
import { grpcStatusOfFailure, ProxyError } from '../core/proxy-error.js';
import { GRPC_CODE_NAMES, grpcRetryPushbackMs } from '../core/grpc.js';
import { countedStatus, OUTCOMES } from '../core/outcome.js';
import type { PolicyPart } from './part.js';
import { sharedRetryBudget, type RetryBudget } from './retry-budget.js';

export interface RetryEvents {
  /** A retry is about to happen, caused by `reason` (a status code, or a failure kind). */
  retried(reason: string): void;
  skipped(reason: RetrySkipReason): void;
}

/**
 * A gRPC status the route names in retry.on: a trailers-only answer's (decided before anything reached the client),
 * or the one a failed gRPC call would be answered with, where the outcome table lets that failure be retried at all.
 * Like Envoy's retry_on for gRPC codes, it is retried whatever the method: gRPC calls are all POSTs, and naming the
 * code on the route is the statement that this service's calls may be sent again after it.
 */
function namedGrpcStatus(policy: RetryPolicy, exchange: Exchange, response: UpstreamResponse | undefined, error: ProxyError | undefined): number | undefined {
  const code = response ? response.grpcStatus : OUTCOMES[error!.kind].retriedOn === 'never' ? undefined : grpcStatusOfFailure(exchange, error!);
  return code !== undefined && policy.on.grpcCodes.has(code) ? code : undefined;
}

/** The retry condition a result matches under the policy, or undefined when it is not to be retried. */
function retryReason(policy: RetryPolicy, response: UpstreamResponse | undefined, error: ProxyError | undefined, grpcCode: number | undefined): string | undefined {
  if (response?.grpcStatus !== undefined && grpcRetryPushbackMs(response.headers['grpc-retry-pushback-ms']) === null) return undefined;
  if (grpcCode !== undefined) return GRPC_CODE_NAMES[grpcCode];
  if (response) {
    const status = countedStatus(response.status, response.grpcStatus);
    return policy.on.statuses.has(status) ? String(status) : undefined;
  }
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
      const grpcCode = namedGrpcStatus(policy, exchange, response, error);
      const reason = attempt < policy.attempts ? retryReason(policy, response, error, grpcCode) : undefined;
      const delay = reason === undefined ? 0 : retryDelay(policy, attempt, response);
      const skip = reason === undefined ? undefined : whyNotRetry(exchange, error?.kind === 'connect-failure' || grpcCode !== undefined, delay, budget);
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

/** The wait the upstream asked for, if any: gRPC's pushback on a gRPC answer, else Retry-After on a 429 or 503. */
function askedDelay(response: UpstreamResponse): number | undefined {
  if (response.grpcStatus !== undefined) return grpcRetryPushbackMs(response.headers['grpc-retry-pushback-ms']) ?? undefined;
  return response.status === 429 || response.status === 503 ? retryAfterMs(response.headers['retry-after']) : undefined;
}

function retryDelay(policy: RetryPolicy, attempt: number, response: UpstreamResponse | undefined): number {
  const backoff = backoffDelay(attempt, policy.backoff);
  const asked = response && askedDelay(response);
  return asked === undefined ? backoff : Math.max(asked, backoff);
}

/**
 * Checked in this order so the budget is only spent on a retry that will really happen. `mayRepeat`: the retry may
 * repeat any method, as after a connect failure (nothing was sent) or a gRPC status the route names (its opt-in);
 * otherwise a request that is not idempotent may already have had its effect.
 */
function whyNotRetry(exchange: Exchange, mayRepeat: boolean, delay: number, budget: RetryBudget): RetrySkipReason | undefined {
  if (!replayable(exchange.body)) return 'body-too-large';
  if (!exchange.idempotent && !mayRepeat) return 'not-idempotent';
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
