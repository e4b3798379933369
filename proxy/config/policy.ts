/**
 * The policy as the running proxy uses it: durations in milliseconds, sizes in bytes, defaults filled in, lookups
 * precomputed. Its shape is generated from the schema (generated/policy-types.ts); here are the values code derives
 * rather than copies from a key.
 */
export type * from './generated/policy-types.js';

export interface HostPort {
  host: string;
  port: number;
  /** As written in the file, for messages. */
  text: string;
}

/** What `retry.on` or `circuitBreaker.failOn` lists, as retries and the breaker look it up. */
export interface Conditions {
  /** HTTP statuses, `5xx`, `4xx` and `gateway-error` spelled out; a gRPC response is looked up by its HTTP equivalent. */
  statuses: ReadonlySet<number>;
  /** gRPC status codes by number (unavailable is 14), looked up by a trailers-only response's grpc-status. */
  grpcCodes: ReadonlySet<number>;
  connectFailure: boolean;
  reset: boolean;
  timeout: boolean;
}
