/** The demo client's shared data shapes (the chaos/demo data contract). */

export type ClientMode = 'none' | 'app';

/** What the load speaks: HTTP requests, or gRPC calls (the demo service's Unary method). */
export type LoadProtocol = 'http' | 'grpc';

/** The app-level resilience arm: an opossum breaker OUTSIDE retries with backoff and a per-attempt timeout. */
export interface AppPolicy {
  /** Per attempt timeout. */
  timeoutMs: number;
  /** The whole call, every attempt and backoff included (as the sidecar's route timeout); none: no overall deadline. */
  deadlineMs?: number;
  retry: {
    attempts: number;
    baseMs: number;
    maxMs: number;
    jitter: 'full' | 'equal' | 'none';
    /** What is retried; default: no answer (connect failure, reset, timeout), any 5xx and 429. */
    on?: RetryOn;
    /** Retries may add at most `ratio` of the calls (plus minPerSecond) over a sliding window; none: unbounded. */
    budget?: { ratio: number; minPerSecond: number; windowMs: number };
  };
  breaker: {
    errorThresholdPercentage: number;
    volumeThreshold: number;
    windowMs: number;
    resetTimeoutMs: number;
    consecutiveFailures?: number;
  };
}

/** Which outcomes a retry is made for, in the sidecar's own terms (retry.on). */
export interface RetryOn {
  statuses: readonly number[];
  /** gRPC status codes (numbers) retried; the gRPC app arm's retryableStatusCodes. */
  grpcCodes?: readonly number[];
  connectFailure: boolean;
  reset: boolean;
  timeout: boolean;
}

export interface LoadOptions {
  url: string;
  /** Requests per second, open loop. */
  rate: number;
  /** Infinity runs until `signal` aborts (serve mode). */
  durationMs: number;
  mode: ClientMode;
  arm: string;
  /** Default http. For grpc, `url` is http://HOST:PORT[,HOST:PORT...]/package.Service/Method (see demo-client/grpc/target.ts). */
  protocol?: LoadProtocol;
  method?: string;
  appPolicy?: AppPolicy;
  /** 'none' mode: generous, default 30000. */
  socketTimeoutMs?: number;
  /** 'none' mode: the whole request's timeout (a client library's request timeout); default: none. */
  requestTimeoutMs?: number;
  /** Beyond this many requests in flight a request is recorded as error "client-overload"; default 2000. */
  maxInFlight?: number;
  /** Client instances the requests are spread over in turn, each with its own connections (and app resilience); default 1. */
  instances?: number;
  /**
   * Request slots shared with the other loads of this process that name the same pool (an app's worker pool); when
   * none is free the request is recorded as "client-overload".
   */
  workers?: { name: string; size: number };
  onRecord?: (r: RequestRecord) => void;
  signal?: AbortSignal;
}

export interface RequestRecord {
  arm: string;
  seq: number;
  /** ms since load start: the SCHEDULED send time. */
  start: number;
  /** From the scheduled time to completion (coordinated-omission safe). */
  latencyMs: number;
  /** 0 = no response. */
  status: number;
  /** 2xx. */
  ok: boolean;
  /** e.g. ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, EOPENBREAKER, timeout. */
  error?: string;
  /** x-breakwater-attempts header, or app-level attempts. */
  attempts?: number;
  /** Answered without reaching a backend: app breaker open, x-breakwater-circuit: open or x-breakwater-bulkhead: rejected. */
  fastFail: boolean;
  /** gRPC loads: the call's status, named as the policy names it (ok, unavailable, deadline-exceeded, ...). */
  grpcStatus?: string;
  /** Which replica answered, when the answer says so. */
  replica?: string;
}

export interface LoadSummary {
  arm: string;
  count: number;
  ok: number;
  /** 0..1 */
  successRate: number;
  p50: number;
  p95: number;
  p99: number;
  /** ms */
  max: number;
  fastFails: number;
  /** Completed requests per second. */
  throughput: number;
  durationMs: number;
}

/** The outcome of one logical call, before it is stamped with schedule data into a RequestRecord. */
export interface CallOutcome {
  status: number;
  error?: string;
  attempts?: number;
  fastFail: boolean;
  grpcStatus?: string;
  replica?: string;
}

/** One way of making a call: plain (`none`) or with app-level resilience (`app`). */
export interface Caller {
  call(signal?: AbortSignal): Promise<CallOutcome>;
  close(): Promise<void>;
}
