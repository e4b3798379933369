// The app arm of the gRPC lab: resilience as grpc-js itself offers it, through a service config (gRFC A6 retries):
// round_robin over every replica address (so a retry can reach another replica), a retry policy on UNAVAILABLE with
// exponential backoff, and the call's deadline, all taken from the sidecar's route policy as the HTTP app arm is.
import type { AppPolicy } from '../types.js';

/** grpc-js refuses more: attempts beyond it are capped, as its own DEFAULT_MAX_ATTEMPTS_LIMIT does. */
export const GRPC_MAX_ATTEMPTS = 5;

export interface ServiceConfig {
  loadBalancingConfig: Array<Record<string, object>>;
  methodConfig: Array<{
    name: Array<{ service: string }>;
    timeout: string;
    retryPolicy?: {
      maxAttempts: number;
      initialBackoff: string;
      maxBackoff: string;
      backoffMultiplier: number;
      retryableStatusCodes: string[];
    };
  }>;
}

/** Seconds as a service config duration ("0.025s"). */
const duration = (ms: number): string => `${Number((Math.max(ms, 1) / 1000).toFixed(3))}s`;

export function appServiceConfig(policy: AppPolicy, service: string): ServiceConfig {
  const attempts = Math.min(policy.retry.attempts, GRPC_MAX_ATTEMPTS);
  return {
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig: [
      {
        name: [{ service }],
        timeout: duration(policy.deadlineMs ?? policy.timeoutMs),
        // grpc-js takes a retry policy only with two attempts or more.
        ...(attempts >= 2
          ? {
              retryPolicy: {
                maxAttempts: attempts,
                initialBackoff: duration(policy.retry.baseMs),
                maxBackoff: duration(policy.retry.maxMs),
                backoffMultiplier: 2,
                retryableStatusCodes: ['UNAVAILABLE'],
              },
            }
          : {}),
      },
    ],
  };
}
