// The results.json contract between the chaos runner and chaos/report. The fields named in the shared contract are
// fixed; additions here are optional so a reader written against the contract keeps working.
import type { LoadSummary } from '../demo-client/load.js';

/** The four client/sidecar combinations every comparison is built from. */
export type BaseArm = 'none' | 'app' | 'proxy' | 'app+proxy';

/**
 * An arm is one of the base arms or a named variant of one (e.g. `proxy-no-jitter`) that carries a policy override.
 * Variants keep `arm` a plain name; `base` says which client/sidecar combination it ran.
 */
export type ArmName = BaseArm | (string & {});

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface TimelineBucket {
  t: number; // ms since arm start, 1 s buckets (t = bucket start)
  requests: number;
  ok: number;
  successRate: number;
  p50: number;
  p99: number;
  fastFails: number;
  backendArrivals: number;
  breakerState?: BreakerState;
  retries?: number;
  ejections?: number;
}

export interface ArmEvent {
  t: number;
  action: string;
  target?: string;
  detail?: string;
}

export interface ArmSummary extends LoadSummary {
  amplification: number; // backend requests received / client requests sent
  timeToDetectMs: number | null; // first fault action → first fast-fail or breaker open/ejection; null if never
  timeToRecoverMs: number | null; // restore/heal → success rate back >= 95% over a 1 s bucket
}

export interface ArmResult {
  arm: ArmName;
  /** Set for named variants: the base arm they ran. */
  base?: BaseArm;
  summary: ArmSummary;
  hypothesis: { passed: boolean; observed: number };
  timeline: TimelineBucket[];
  arrivals?: Array<{ t: number; count: number }>; // backend arrivals per 100 ms
  attemptsHistogram?: Record<string, number>; // attempts per call -> count
  events: ArmEvent[];
  /** Per load stream (only when the experiment drives more than one route, e.g. bulkhead). */
  streams?: Record<string, LoadSummary>;
}

export interface HypothesisSpec {
  description: string;
  metric: 'successRate' | 'p99' | 'fastFails' | 'amplification' | (string & {});
  op: '>=' | '<=';
  value: number;
  arms?: string[]; // arms it applies to; default all but 'none'
}

export interface ExperimentResult {
  name: string;
  title: string;
  description?: string;
  hypothesis: HypothesisSpec;
  seed: number;
  startedAt: string;
  /** Where it ran: the mini-cluster, or the local fallback and why. */
  environment?: string;
  load: { rate: number; durationMs: number };
  arms: ArmResult[];
  passed: boolean; // every applicable arm passed
}
