/**
 * gRPC's vocabulary as Breakwater reads it: the 17 status codes (a bounded label set), the HTTP status each one is
 * equivalent to (what status-based machinery such as `5xx`, outlier detection and the status_class label see, as
 * Envoy maps them), the status Breakwater answers with for each of its own outcomes, and the `grpc-timeout` header.
 */
import type { Headers } from './exchange.js';
import type { ErrorKind } from './outcome.js';

/** The status codes by number, named as the policy file names them (retry.on, circuitBreaker.failOn). */
export const GRPC_CODE_NAMES = [
  'ok',
  'cancelled',
  'unknown',
  'invalid-argument',
  'deadline-exceeded',
  'not-found',
  'already-exists',
  'permission-denied',
  'resource-exhausted',
  'failed-precondition',
  'aborted',
  'out-of-range',
  'unimplemented',
  'internal',
  'unavailable',
  'data-loss',
  'unauthenticated',
] as const;

export type GrpcCodeName = (typeof GRPC_CODE_NAMES)[number];

const CODE_OF_NAME: ReadonlyMap<string, number> = new Map(GRPC_CODE_NAMES.map((name, code) => [name, code]));

/** The code a policy file's name stands for (unavailable: 14), or undefined when it names no gRPC status. */
export function grpcCodeOf(name: string): number | undefined {
  return CODE_OF_NAME.get(name);
}

export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** The HTTP status each code is equivalent to, by code number. */
const HTTP_EQUIVALENT: readonly number[] = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

/** The HTTP status a gRPC status is equivalent to; an unknown code counts as UNKNOWN (500). */
export function httpEquivalent(code: number): number {
  return HTTP_EQUIVALENT[code] ?? 500;
}

/** The code a `grpc-status` value names, or undefined when absent or not a number (then it is UNKNOWN to gRPC). */
export function grpcStatusOf(headers: Headers): number | undefined {
  const value = headers['grpc-status'];
  if (typeof value !== 'string') return undefined;
  const code = Number(value);
  return Number.isInteger(code) && code >= 0 ? code : GrpcStatus.UNKNOWN;
}

/** A gRPC call: `content-type: application/grpc` or one of its `+proto`/`+json` forms (not grpc-web). */
export function isGrpc(contentType: string | string[] | undefined): boolean {
  return typeof contentType === 'string' && contentType.startsWith('application/grpc') && !contentType.startsWith('application/grpc-web');
}

/** The status Breakwater answers a gRPC caller with for each of its own outcomes. */
export const GRPC_STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  'connect-failure': GrpcStatus.UNAVAILABLE,
  reset: GrpcStatus.UNAVAILABLE,
  'protocol-error': GrpcStatus.INTERNAL,
  'tls-error': GrpcStatus.UNAVAILABLE,
  'local-resources': GrpcStatus.RESOURCE_EXHAUSTED,
  timeout: GrpcStatus.DEADLINE_EXCEEDED,
  deadline: GrpcStatus.DEADLINE_EXCEEDED,
  'circuit-open': GrpcStatus.UNAVAILABLE,
  'bulkhead-rejected': GrpcStatus.RESOURCE_EXHAUSTED,
  'no-endpoint': GrpcStatus.UNAVAILABLE,
  'client-gone': GrpcStatus.CANCELLED,
  cancelled: GrpcStatus.CANCELLED,
};

/** The code for an HTTP status that is not gRPC's own (a fault abort, a non-gRPC answer), as gRPC's spec maps them. */
export function grpcStatusOfHttp(status: number): number {
  if (status < 300) return GrpcStatus.OK;
  switch (status) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/**
 * `grpc-retry-pushback-ms` (gRPC's retry design, A6): the wait in milliseconds a server asks for before a retry;
 * null when the server asks for no retry at all (a negative or unreadable value); undefined when absent.
 */
export function grpcRetryPushbackMs(value: string | string[] | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : null;
}

const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/**
 * `grpc-timeout` in milliseconds: at most 8 digits and a unit (H, M, S, m, u, n). Undefined when absent or
 * malformed (gRPC servers then ignore it too).
 */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || value.length < 2 || value.length > 9) return undefined;
  const unit = UNIT_MS[value[value.length - 1]!];
  const digits = value.slice(0, -1);
  if (unit === undefined || !/^\d+$/.test(digits)) return undefined;
  return Number(digits) * unit;
}

/** Milliseconds as a `grpc-timeout` value, rounded up so the receiver never gets more time than is left. */
export function formatGrpcTimeout(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  return whole <= 99_999_999 ? `${whole}m` : `${Math.ceil(whole / 1000)}S`;
}
