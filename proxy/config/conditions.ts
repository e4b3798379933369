/**
 * `retry.on` and `circuitBreaker.failOn` as the lookups retries and the breaker make per response: statuses and gRPC
 * codes by number, failure kinds as flags.
 */
import { grpcCodeOf } from '../core/grpc.js';
import type { FailureKind, RetryCondition } from './generated/policy-types.js';
import type { Conditions } from './policy.js';

/** The statuses a status class or group in a condition list stands for. */
const STATUS_GROUPS: Readonly<Record<string, readonly number[]>> = {
  '5xx': Array.from({ length: 100 }, (_, i) => 500 + i),
  '4xx': Array.from({ length: 100 }, (_, i) => 400 + i),
  'gateway-error': [502, 503, 504],
};

export function retryConditions(list: ReadonlyArray<RetryCondition | FailureKind>): Conditions {
  const statuses = new Set<number>();
  const grpcCodes = new Set<number>();
  for (const c of list) {
    if (typeof c === 'number') {
      statuses.add(c);
      continue;
    }
    STATUS_GROUPS[c]?.forEach((s) => statuses.add(s));
    const code = grpcCodeOf(c);
    if (code !== undefined) grpcCodes.add(code);
  }
  return { statuses, grpcCodes, connectFailure: list.includes('connect-failure'), reset: list.includes('reset'), timeout: list.includes('timeout') };
}

/** A connection reset (or broken HTTP) is how a crashing upstream fails mid-answer: `5xx` counts it too. */
export function failureConditions(failOn: readonly FailureKind[]): Conditions {
  const listed = retryConditions(failOn);
  return { ...listed, reset: listed.reset || failOn.includes('5xx') };
}
