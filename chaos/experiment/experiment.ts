// The validated, typed form of an experiment file (chaos/experiments/<name>.yaml). Durations are milliseconds here;
// the sidecar policy keeps the policy-file spelling ("800ms") because it is written verbatim into Breakwater's config.
import type { LoadProtocol } from '../../demo-client/load.js';
import type { BaseArm, HypothesisSpec } from '../results.js';

/** Demo-backend fault settings, as its /admin/faults endpoint and CLI flags take them. */
export interface Faults {
  failureRate?: number;
  failureStatus?: number;
  slowRate?: number;
  slowDelay?: string;
  transientRate?: number;
  retryAfter?: string;
  hang?: boolean;
}

export interface BackendSpec {
  name: string;
  replicas: number;
  /** Faults at start-up; `restore` returns replicas to these. */
  faults: Faults;
  /** How long a (re)started replica answers /readyz 503: a pod warming up. */
  readyDelayMs: number;
  /** How long the supervisor waits before replacing a killed replica. */
  restartDelayMs: number;
  /** The route prefix that reaches this backend through Breakwater. */
  pathPrefix: string;
  /** What the replicas serve the load: HTTP, or gRPC (h2c) beside their HTTP probes and admin endpoints. */
  protocol: LoadProtocol;
}

export interface Topology {
  backends: BackendSpec[];
  /** How often the local service balancer probes each replica's /readyz. */
  readinessPeriodMs: number;
  /** Mini-cluster: how long a readiness change takes to reach the Service's rules (kube-proxy's sync). */
  endpointDelayMs: number;
  /** Mini-cluster: how long a failed node's pods stay Service endpoints (the node controller's grace period). */
  nodeFailureDelayMs: number;
  /** Mini-cluster `delete`: how long a terminating pod has between SIGTERM and SIGKILL. */
  gracePeriodMs: number;
}

export interface LoadStream {
  name: string;
  backend: string;
  path: string;
  method: string;
  rate: number;
}

export interface LoadSpec {
  rate: number;
  durationMs: number;
  streams: LoadStream[];
  /** The plain client's request timeout (none and proxy arms); default: the sidecar route's timeout. */
  clientTimeoutMs?: number;
  /** Client instances (pods of the calling service) the load is spread over, each with its own connections; default 1. */
  clients?: number;
  /** Requests the client can have in flight across all its streams (an app's worker pool); default: no limit. */
  workers?: number;
}

/**
 * The sidecar policy for every route, as written in the experiment: Breakwater's route keys (timeout, retry,
 * circuitBreaker, fallback, maxConcurrent, ...) plus `upstream` for the upstream's keys. Validated by Breakwater's own
 * policy parser (see policy.ts); this runner reads it only through that parser.
 */
export type SidecarPolicy = Record<string, unknown>;

export interface ArmSpec {
  name: string;
  base: BaseArm;
  /** Deep-merged over the experiment's policy for this arm only. */
  policyOverride?: Record<string, unknown>;
}

export type ActionName =
  | 'kill' | 'crash' | 'delete' | 'freeze' | 'thaw' | 'latency' | 'errors' | 'blackhole'
  | 'node-failure' | 'partition' | 'packet-loss' | 'restore';

/** A replica selector: one replica of a backend, or all of them. */
export interface TargetRef {
  backend: string;
  replica: number | 'all';
}

export interface TimelineAction {
  atMs: number;
  action: ActionName;
  target?: TargetRef;
  /** latency: added delay; blackhole delay mode: added delay per chunk. */
  delayMs?: number;
  /** errors: failure rate; latency: share of requests slowed; packet-loss: share of packets dropped. */
  rate?: number;
  /** errors: the status to fail with. */
  status?: number;
  /** blackhole: drop everything, or delay it. */
  mode?: 'drop' | 'delay';
}

export interface HypothesisWindow {
  fromMs: number;
  toMs: number;
}

export interface ExperimentHypothesis extends HypothesisSpec {
  window?: HypothesisWindow;
  stream?: string;
}

export interface Experiment {
  name: string;
  file: string;
  title: string;
  /** The workload: HTTP requests (default) or gRPC calls to the demo service's Unary method. */
  protocol: LoadProtocol;
  description?: string;
  hypothesis: ExperimentHypothesis;
  topology: Topology;
  load: LoadSpec;
  policy: SidecarPolicy;
  arms: ArmSpec[];
  timeline: TimelineAction[];
  /** Sample backend arrivals every 100 ms (retry-storm); otherwise every second. */
  fineArrivals: boolean;
}

export const ACTIONS: readonly ActionName[] = [
  'kill', 'crash', 'delete', 'freeze', 'thaw', 'latency', 'errors', 'blackhole', 'node-failure', 'partition', 'packet-loss', 'restore',
];
/** Faults made with network namespaces and iptables: only the mini-cluster (--target cluster) has them. */
export const CLUSTER_ONLY_ACTIONS: readonly ActionName[] = ['node-failure', 'partition', 'packet-loss'];
export const BASE_ARMS: readonly BaseArm[] = ['none', 'app', 'proxy', 'app+proxy'];
