// Turns one arm's raw material (client records, backend arrivals, Breakwater samples, events) into its ArmResult.
import { summarize, type RequestRecord } from '../../demo-client/load.js';
import { percentile } from '../../demo-client/summary.js';
import type { ArmSpec, Experiment } from '../experiment/experiment.js';
import { holds, observe } from '../experiment/hypothesis.js';
import type { ArmEvent, ArmResult, FailureCause, TimelineBucket } from '../results.js';
import type { ArrivalSample, ProxySample } from './sampler.js';

export interface ArmObservations {
  arm: ArmSpec;
  /** Client records per load stream. */
  recordsByStream: Map<string, RequestRecord[]>;
  elapsedMs: number;
  arrivals: ArrivalSample[];
  proxy: ProxySample[];
  events: ArmEvent[];
}

const BUCKET_MS = 1000;
const FINE_BUCKET_MS = 100;
/** Actions that start a fault (detection is measured from the first of them). */
export const FAULT_ACTIONS: ReadonlySet<string> = new Set([
  'kill', 'freeze', 'latency', 'errors', 'blackhole', 'crash', 'delete', 'node-failure', 'partition', 'packet-loss',
]);
/** Events after which the system is healed (recovery is measured from the last of them). */
const HEAL_EVENTS = new Set(['restore', 'thaw', 'restarted']);

export function buildArmResult(experiment: Experiment, o: ArmObservations): ArmResult {
  const records = [...o.recordsByStream.values()].flat().sort((a, b) => a.start - b.start);
  const totalArrivals = o.arrivals.reduce((sum, a) => sum + a.count, 0);
  const amplification = records.length ? totalArrivals / records.length : 0;
  const timeline = buildTimeline(records, o, experiment.load.durationMs);
  const fineArrivals = experiment.fineArrivals ? bucketArrivals(o.arrivals) : undefined;
  const hypothesisRecords = experiment.hypothesis.stream ? o.recordsByStream.get(experiment.hypothesis.stream)! : records;
  const observed = observe(experiment.hypothesis, { records: hypothesisRecords, arrivals: o.arrivals, fineArrivals });
  const histogram = attemptsHistogram(records);
  const failures = failureCauses(records);
  return {
    arm: o.arm.name,
    ...(o.arm.name !== o.arm.base ? { base: o.arm.base } : {}),
    summary: {
      ...summarize(o.arm.name, records, o.elapsedMs),
      amplification,
      timeToDetectMs: timeToDetect(records, o),
      timeToRecoverMs: timeToRecover(timeline, o.events),
    },
    hypothesis: { passed: holds(experiment.hypothesis, observed), observed },
    timeline,
    ...(fineArrivals ? { arrivals: fineArrivals } : {}),
    ...(histogram ? { attemptsHistogram: histogram } : {}),
    ...(Object.keys(failures).length > 0 ? { failures } : {}),
    events: o.events,
    ...(o.recordsByStream.size > 1
      ? { streams: Object.fromEntries([...o.recordsByStream].map(([name, rs]) => [name, summarize(o.arm.name, rs, o.elapsedMs)])) }
      : {}),
  };
}

function buildTimeline(records: RequestRecord[], o: ArmObservations, durationMs: number): TimelineBucket[] {
  const isProxyArm = o.arm.base === 'proxy' || o.arm.base === 'app+proxy';
  const buckets: TimelineBucket[] = [];
  let previous: ProxySample | undefined;
  for (let t = 0; t < durationMs; t += BUCKET_MS) {
    const inBucket = (at: number) => at >= t && at < t + BUCKET_MS;
    const bucketRecords = records.filter((r) => inBucket(r.start));
    const latencies = bucketRecords.map((r) => r.latencyMs).sort((a, b) => a - b);
    const ok = bucketRecords.filter((r) => r.ok).length;
    const bucket: TimelineBucket = {
      t,
      requests: bucketRecords.length,
      ok,
      successRate: bucketRecords.length ? ok / bucketRecords.length : 1,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      fastFails: bucketRecords.filter((r) => r.fastFail).length,
      backendArrivals: o.arrivals.filter((a) => inBucket(a.t)).reduce((sum, a) => sum + a.count, 0),
    };
    if (isProxyArm) {
      const sample = o.proxy.filter((s) => inBucket(s.t)).at(-1);
      if (sample) {
        bucket.breakerState = sample.breakerState;
        bucket.retries = sample.retriesTotal - (previous?.retriesTotal ?? 0);
        bucket.ejections = sample.ejectionsTotal - (previous?.ejectionsTotal ?? 0);
        previous = sample;
      }
    } else if (o.arm.base === 'app') {
      bucket.retries = bucketRecords.reduce((sum, r) => sum + Math.max(0, (r.attempts ?? 1) - 1), 0);
    }
    buckets.push(bucket);
  }
  return buckets;
}

function bucketArrivals(arrivals: ArrivalSample[]): Array<{ t: number; count: number }> {
  const counts = new Map<number, number>();
  for (const a of arrivals) {
    const t = Math.floor(a.t / FINE_BUCKET_MS) * FINE_BUCKET_MS;
    counts.set(t, (counts.get(t) ?? 0) + a.count);
  }
  return [...counts].sort(([a], [b]) => a - b).map(([t, count]) => ({ t, count }));
}

/** Why the failed calls failed, as the client saw it: what the report gives when a figure misses. */
export function failureCauses(records: readonly RequestRecord[]): Record<string, FailureCause> {
  const latencies = new Map<string, number[]>();
  for (const r of records) {
    if (r.ok) continue;
    const cause = r.fastFail ? 'fast-fail' : r.grpcStatus ? `gRPC ${r.grpcStatus}` : r.status > 0 ? `HTTP ${r.status}` : (r.error ?? 'no answer');
    latencies.set(cause, [...(latencies.get(cause) ?? []), r.latencyMs]);
  }
  return Object.fromEntries([...latencies].map(([cause, ms]) => [cause, { calls: ms.length, p50Ms: percentile(ms.sort((a, b) => a - b), 50) }]));
}

function attemptsHistogram(records: RequestRecord[]): Record<string, number> | undefined {
  const withAttempts = records.filter((r) => r.attempts !== undefined);
  if (withAttempts.length === 0) return undefined;
  const histogram: Record<string, number> = {};
  for (const r of withAttempts) histogram[String(r.attempts)] = (histogram[String(r.attempts)] ?? 0) + 1;
  return histogram;
}

/** First fault → the first sign the system noticed: a fast-fail answered, the breaker open, or an ejection. */
function timeToDetect(records: RequestRecord[], o: ArmObservations): number | null {
  const fault = o.events.find((e) => FAULT_ACTIONS.has(e.action));
  if (!fault) return null;
  const signs = [
    ...records.filter((r) => r.fastFail && r.start >= fault.t).map((r) => r.start + r.latencyMs),
    ...o.proxy.filter((s, i) => s.t >= fault.t && (s.breakerState === 'open' || s.ejectionsTotal > (o.proxy[i - 1]?.ejectionsTotal ?? 0))).map((s) => s.t),
  ];
  return signs.length ? Math.max(0, Math.min(...signs) - fault.t) : null;
}

/** Last heal (restore, thaw, replica replaced) → end of the first 1 s bucket back at >= 95% success. */
function timeToRecover(timeline: TimelineBucket[], events: ArmEvent[]): number | null {
  const heal = events.filter((e) => HEAL_EVENTS.has(e.action)).at(-1);
  if (!heal) return null;
  const recovered = timeline.find((b) => b.t + BUCKET_MS > heal.t && b.requests > 0 && b.successRate >= 0.95);
  return recovered ? Math.max(0, recovered.t + BUCKET_MS - heal.t) : null;
}
