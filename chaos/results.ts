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

/** One repeat of one arm: its seed and the figures the comparison table shows. */
export interface ArmRepeat {
  seed: number;
  summary: ArmSummary;
  /** The hypothesis metric's value in this repeat, and whether the rule held. */
  observed: number;
  held: boolean;
}

/** What the arm ran with: a one-line description and the files (in the run folder) holding the exact settings. */
export interface ArmSettings {
  client: string;
  /** Breakwater's policy, when the arm has a sidecar. */
  sidecar?: string;
  /** Paths relative to the run folder. */
  files: string[];
  /** A circuit breaker somewhere on the arm's path (its state is sampled only in the sidecar). */
  breaker: boolean;
}

export interface ArmResult {
  arm: ArmName;
  /** Set for named variants: the base arm they ran. */
  base?: BaseArm;
  /** The first repeat's summary (the charts show that repeat); `repeats` holds every repeat's. */
  summary: ArmSummary;
  /** `passed`: the rule held in every repeat; `observed`: the mean over the repeats. */
  hypothesis: { passed: boolean; observed: number };
  /** Every repeat, the first included, when the run repeated the arms. */
  repeats?: ArmRepeat[];
  settings?: ArmSettings;
  timeline: TimelineBucket[];
  arrivals?: Array<{ t: number; count: number }>; // backend arrivals per 100 ms
  attemptsHistogram?: Record<string, number>; // attempts per call -> count
  /**
   * Failed calls by cause ("HTTP 503", "timeout", "ECONNREFUSED", "fast-fail"): how many (summed over the repeats)
   * and how long the client waited for them (p50 in ms; with repeats, the mean of the repeats' p50s).
   */
  failures?: Record<string, FailureCause>;
  events: ArmEvent[];
  /** Per load stream (only when the experiment drives more than one route, e.g. bulkhead). */
  streams?: Record<string, LoadSummary>;
}

export interface FailureCause {
  calls: number;
  p50Ms: number;
}

export interface HypothesisSpec {
  description: string;
  metric: 'successRate' | 'p99' | 'fastFails' | 'amplification' | (string & {});
  op: '>=' | '<=';
  value: number;
  /** The protected arms, which must hold it; default: every arm that is not a baseline. */
  arms?: string[];
  /**
   * The baseline arms, which must NOT hold it for the experiment to discriminate; default: `none` when it runs.
   * Every arm is observed and judged; these two lists say what the verdict expects of them.
   */
  baseline?: string[];
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
  passed: boolean; // every protected arm held the hypothesis, in every repeat
  /**
   * Whether the experiment told the arms apart: in every repeat the protected arms held the hypothesis and the
   * baseline arms did not. null when no baseline arm ran.
   */
  discriminates?: boolean | null;
  /** How many times each arm ran (different seeds, interleaved); 1 when absent. */
  repeats?: number;
  /** Faults present from the start (no fault action in the timeline): detect/recover do not apply. */
  faultFromStart?: boolean;
  /** Where the arms differ in more than where resilience lives, one line each. */
  notEquivalent?: string[];
}
