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

/** What `retry.on` lists, as retries look it up. */
export interface RetryOn {
  statuses: ReadonlySet<number>;
  connectFailure: boolean;
  reset: boolean;
  timeout: boolean;
}
