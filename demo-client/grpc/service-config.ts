// The app arm of the gRPC lab: resilience as grpc-js itself offers it, through a service config (gRFC A6 retries):
// round_robin over every replica address (so a retry can reach another replica), a retry policy on the gRPC codes
// the route retries (UNAVAILABLE when it names none) with exponential backoff, and the call's deadline, all taken
// from the sidecar's route policy as the HTTP app arm is.
import { GRPC_CODE_NAMES } from '../../proxy/core/grpc.js';
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

/**
 * Milliseconds as a service config duration with all nine fraction digits ("0.025000000s"): grpc-js reads a
 * timeout's fraction as a count of nanoseconds, so "0.4s" would be a 4 ns deadline.
 */
function duration(ms: number): string {
  const whole = Math.max(1, Math.round(ms));
  return `${Math.floor(whole / 1000)}.${String((whole % 1000) * 1_000_000).padStart(9, '0')}s`;
}

/** The route's gRPC retry codes as grpc-js names them (UNAVAILABLE, DEADLINE_EXCEEDED, ...). */
function retryableCodes(policy: AppPolicy): string[] {
  const codes = policy.retry.on?.grpcCodes ?? [];
  if (codes.length === 0) return ['UNAVAILABLE'];
  return codes.map((code) => GRPC_CODE_NAMES[code]!.toUpperCase().replaceAll('-', '_'));
}

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
                retryableStatusCodes: retryableCodes(policy),
              },
            }
          : {}),
      },
    ],
  };
}
