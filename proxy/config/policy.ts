/** The policy as the running proxy uses it: durations in milliseconds, defaults filled in, lookups precomputed. */
import type { FailureKind } from './schema.js';

export interface HostPort {
  host: string;
  port: number;
  /** As written in the file, for messages. */
  text: string;
}

export interface Policy {
  /** Where it was read from, for messages. */
  source: string;
  /** The file as written (after YAML parsing), for GET /config. */
  document: unknown;
  admin: { address: HostPort };
  listeners: ListenerPolicy[];
  upstreams: UpstreamPolicy[];
  drain: { delayMs: number; timeoutMs: number };
  log: { level: string };
  /** Process-wide bounds on memory the request path may hold outside V8's heap. */
  memory: { replayBuffersBytes: number };
}

export interface ListenerPolicy {
  name: string;
  address: HostPort;
  limits: ListenerLimits;
  /** Client-supplied x-forwarded-* are kept (x-forwarded-for appended to) instead of overwritten. */
  trustForwarded: boolean;
  routes: RoutePolicy[];
}

/** What one client connection may hold of a listener; each limit names the policy key it comes from. */
export interface ListenerLimits {
  /** From accept or the previous response until the request head is complete; then 408 and close. */
  headersTimeoutMs: number;
  /** The longest gap between two bytes of a request body; then 408 (or a close, once a response has begun). */
  requestBodyTimeoutMs: number;
  /** How long a keep-alive connection may sit idle between requests. */
  idleTimeoutMs: number;
  /** Open client connections; more are closed at once. */
  maxConnections: number;
  /** Request line and headers together; a larger head is answered 431. */
  maxHeaderSizeBytes: number;
}

export interface RouteMatch {
  pathPrefix?: string;
  path?: string;
  methods?: ReadonlySet<string>;
  headers?: ReadonlyArray<readonly [name: string, value: string]>;
}

export type Jitter = 'full' | 'equal' | 'none';

export interface RetryPolicy {
  /** Total attempts, the first one included. */
  attempts: number;
  perTryTimeoutMs?: number;
  on: RetryOn;
  backoff: { baseMs: number; maxMs: number; jitter: Jitter };
  budget: { ratio: number; minPerSecond: number; windowMs: number };
  maxReplayBodyBytes: number;
}

export interface RetryOn {
  statuses: ReadonlySet<number>;
  connectFailure: boolean;
  reset: boolean;
  timeout: boolean;
}

export interface BreakerPolicy {
  errorThresholdPercentage: number;
  volumeThreshold: number;
  windowMs: number;
  resetTimeoutMs: number;
  halfOpenRequests: number;
  consecutiveFailures?: number;
  failOn: ReadonlyArray<FailureKind>;
}

export interface FallbackPolicy {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface FaultPolicy {
  delay?: { percent: number; durationMs: number };
  abort?: { percent: number; status: number };
}

/** Exactly one of `delayMs` and `percentile` (of the route's recent attempt latencies, e.g. 95). */
export interface HedgePolicy {
  delayMs?: number;
  percentile?: number;
  maxAttempts: number;
}

export interface RoutePolicy {
  name: string;
  listener: string;
  match: RouteMatch;
  upstream: string;
  timeoutMs: number;
  retry: RetryPolicy;
  circuitBreaker?: BreakerPolicy;
  fallback?: FallbackPolicy;
  maxConcurrent?: number;
  fault?: FaultPolicy;
  hedge?: HedgePolicy;
  /** Canonical text of the route's settings: equal fingerprints keep their breaker state across a reload. */
  fingerprint: string;
}

export interface PoolPolicy {
  maxConnections: number;
  maxConcurrent: number;
  maxPending: number;
  queueTimeoutMs: number;
}

export interface UpstreamPolicy {
  name: string;
  /** Static endpoints ("host:port" or an http(s) origin); empty when dns discovers them. */
  endpoints: string[];
  dns?: { name: string; port: number; refreshMs: number; timeoutMs: number };
  /** The Host header sent upstream; when absent (static endpoints only), each endpoint's host:port. */
  host?: string;
  /** Present when the upstream uses TLS: then to every endpoint, always verified. */
  tls?: {
    /** Verified and sent as SNI; when absent, each endpoint's host (an IP address is verified, not sent). */
    serverName?: string;
    /** PEM certificates read from tls.caFile, trusted in place of the system's roots. */
    ca?: string;
  };
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  pool: PoolPolicy;
  loadBalancing: 'round-robin' | 'least-request';
  outlierDetection: {
    consecutiveFailures: number;
    baseEjectionTimeMs: number;
    /** Never below baseEjectionTimeMs. */
    maxEjectionTimeMs: number;
    decayIntervalMs: number;
    maxEjectionPercent: number;
  };
  healthCheck?: {
    path: string;
    intervalMs: number;
    timeoutMs: number;
    unhealthyThreshold: number;
    healthyThreshold: number;
  };
  /** Canonical text of the upstream's settings: equal fingerprints keep their pools across a reload. */
  fingerprint: string;
}
