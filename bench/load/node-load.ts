// A Node load client: closed loop (fallback when wrk is missing, and for sub-second smoke runs) and
// open loop at a fixed rate. Open-loop latency is measured from each request's *scheduled* send
// time, so a stalled proxy cannot hide its queueing delay (no coordinated omission).
import { Agent, request } from 'node:http';
import { LatencyRecorder, nowUs } from './latency-recorder.js';
import type { ClosedLoopSpec, LoadResult } from './load-types.js';

export interface OpenLoopSpec {
  url: string;
  rps: number;
  durationS: number;
  /** Sent in turn, relative to `url`; a GET of `url` when absent. */
  mix?: readonly PlannedRequest[];
  /** Called with every answer as it arrives (requests that got none are only counted in `errors`). */
  onAnswer?: (answer: { path: string; status: number; latencyUs: number }) => void;
}

/** A GET, or a POST when it has a body. */
export interface PlannedRequest {
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

export interface OpenLoopResult {
  targetRps: number;
  /** Requests scheduled, answered or not. */
  sent: number;
  /** Answers per second from the first scheduled send to the last answer: below the target when the answers fell behind. */
  achievedRps: number;
  /** Requests answered (any status) within the window and its drain. */
  completed: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  non2xx: number;
  errors: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
}

const MAX_SAMPLES = 2_000_000;
/** How long in-flight requests may run past the end of the window before they count as errors. */
const DRAIN_MS = 5000;


interface Outcome {
  ok: boolean;
  status: number;
}

function send(agent: Agent, url: URL, body: Buffer | undefined, headers?: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = request(url, { agent, method: body ? 'POST' : 'GET', headers }, (res) => {
      res.on('end', () => resolve({ ok: true, status: res.statusCode ?? 0 }));
      res.on('error', () => resolve({ ok: false, status: 0 }));
      res.resume();
    });
    req.on('error', () => resolve({ ok: false, status: 0 }));
    req.end(body);
  });
}

function is2xxOr3xx(status: number): boolean {
  return status >= 200 && status < 400;
}

export async function nodeClosedLoop(spec: ClosedLoopSpec): Promise<LoadResult> {
  const url = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const body = spec.postBodyBytes === undefined ? undefined : Buffer.alloc(spec.postBodyBytes, 'x');
  const recorder = new LatencyRecorder(MAX_SAMPLES);
  let non2xx = 0;
  let socketErrors = 0;
  const start = nowUs();
  const end = start + spec.durationS * 1e6;
  const worker = async (): Promise<void> => {
    for (let sentAt = nowUs(); sentAt < end; sentAt = nowUs()) {
      const outcome = await send(agent, url, body);
      if (!outcome.ok) socketErrors++;
      else if (!is2xxOr3xx(outcome.status)) non2xx++;
      if (!recorder.record(nowUs() - sentAt)) break;
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, worker));
  agent.destroy();
  return recorder.result('node', start, { non2xx, socketErrors });
}

export async function nodeOpenLoop(spec: OpenLoopSpec): Promise<OpenLoopResult> {
  const url = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.max(1, Math.round(spec.rps * spec.durationS));
  const intervalUs = 1e6 / spec.rps;
  const recorder = new LatencyRecorder(total);
  const planned = (spec.mix ?? [{ path: `${url.pathname}${url.search}` }]).map((entry) => ({ ...entry, url: new URL(entry.path, url) }));
  let non2xx = 0;
  const statuses: Record<string, number> = {};
  const inFlight: Promise<void>[] = [];
  const start = nowUs();
  let lastAnswerUs = start;
  for (let sent = 0; sent < total; ) {
    const now = nowUs();
    // Send everything that is due; timers fire at ~1 ms granularity, the schedule is exact.
    for (; sent < total && start + sent * intervalUs <= now; sent++) {
      const scheduledAt = start + sent * intervalUs;
      const next = planned[sent % planned.length]!;
      inFlight.push(
        send(agent, next.url, next.body, next.headers).then((outcome) => {
          if (!outcome.ok) return;
          if (!is2xxOr3xx(outcome.status)) non2xx++;
          statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
          lastAnswerUs = nowUs();
          recorder.record(lastAnswerUs - scheduledAt);
          spec.onAnswer?.({ path: next.path, status: outcome.status, latencyUs: lastAnswerUs - scheduledAt });
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await Promise.race([
    Promise.all(inFlight),
    new Promise((resolve) => setTimeout(resolve, DRAIN_MS).unref()),
  ]);
  agent.destroy(); // ends any request still running after the drain window
  const summary = recorder.summary();
  return {
    targetRps: spec.rps,
    sent: total,
    // Over the time the answers took, not the schedule's: a window whose answers ran seconds late, all of them
    // arriving in the drain, did not hold the rate.
    achievedRps: summary.count / Math.max(spec.durationS, (lastAnswerUs - start) / 1e6),
    completed: summary.count,
    p50Us: summary.p50Us,
    p99Us: summary.p99Us,
    maxUs: summary.maxUs,
    non2xx,
    // Failed requests and those still unanswered after the drain window.
    errors: total - summary.count,
    statuses,
  };
}
