import { performance } from 'node:perf_hooks';
import { AppResilientCaller } from './app-caller.js';
import { GrpcCaller } from './grpc/grpc-caller.js';
import { parseGrpcTarget } from './grpc/target.js';
import { PlainCaller } from './plain-caller.js';
import { DEFAULT_APP_POLICY } from './policy.js';
import { runOpenLoop } from './scheduler.js';
import { summarize } from './summary.js';
import type { Caller, CallOutcome, LoadOptions, LoadSummary, RequestRecord } from './types.js';

export type { AppPolicy, ClientMode, LoadOptions, LoadProtocol, LoadSummary, RequestRecord } from './types.js';
export { summarize } from './summary.js';

const DEFAULT_SOCKET_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_IN_FLIGHT = 2_000;

/**
 * Request slots shared by several loads, as an application's worker or connection pool is shared by the calls to
 * all its dependencies: a slow dependency that holds them all starves the others (what a bulkhead prevents).
 */
class WorkerPool {
  private active = 0;

  constructor(readonly size: number) {}

  tryAcquire(): boolean {
    if (this.active >= this.size) return false;
    this.active++;
    return true;
  }

  release(): void {
    this.active--;
  }
}

/** Pools by name: loads given the same name share one, in this process (options cross process boundaries as JSON). */
const workerPools = new Map<string, WorkerPool>();

function workerPool(shared: { name: string; size: number } | undefined): WorkerPool | undefined {
  if (!shared) return undefined;
  let pool = workerPools.get(shared.name);
  if (!pool) workerPools.set(shared.name, (pool = new WorkerPool(shared.size)));
  return pool;
}

/** Runs an open-loop load and keeps every record: for bounded runs (the `load` command, the chaos runner). */
export async function runLoad(opts: LoadOptions): Promise<{ records: RequestRecord[]; summary: LoadSummary }> {
  const records: RequestRecord[] = [];
  const elapsedMs = await streamLoad(opts, (record) => {
    records.push(record);
    opts.onRecord?.(record);
  });
  records.sort((a, b) => a.seq - b.seq);
  return { records, summary: summarize(opts.arm, records, elapsedMs) };
}

/**
 * Runs an open-loop load, handing each record to `emit` and keeping none: the long-lived service uses this directly.
 * Resolves with the elapsed time once the schedule ended (or `signal` aborted) and every request in flight settled.
 */
export async function streamLoad(opts: LoadOptions, emit: (record: RequestRecord) => void): Promise<number> {
  validateLoadOptions(opts);
  // Several client instances (pods of the calling service), each with its own connections, breaker and budget.
  const workers = workerPool(opts.workers);
  const callers = Array.from({ length: opts.instances ?? 1 }, () => createCaller(opts));
  const maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const intervalMs = 1000 / opts.rate;
  const inFlight = new Set<Promise<void>>();
  try {
    const { startedAt } = await runOpenLoop({ rate: opts.rate, durationMs: opts.durationMs, signal: opts.signal }, (seq, scheduledAt) => {
      const stamp = (outcome: CallOutcome): RequestRecord => toRecord(opts.arm, seq, seq * intervalMs, performance.now() - scheduledAt, outcome);
      if (inFlight.size >= maxInFlight || !(workers?.tryAcquire() ?? true)) {
        // Beyond the bound the client itself is the bottleneck: say so instead of queueing without limit.
        emit(stamp({ status: 0, error: 'client-overload', fastFail: false }));
        return;
      }
      const pending: Promise<void> = callers[seq % callers.length]!
        .call(opts.signal)
        .then((outcome) => emit(stamp(outcome)))
        .finally(() => {
          inFlight.delete(pending);
          workers?.release();
        });
      inFlight.add(pending);
    });
    await Promise.all(inFlight);
    return performance.now() - startedAt;
  } finally {
    await Promise.all(callers.map((caller) => caller.close()));
  }
}

function createCaller(opts: LoadOptions): Caller {
  if (opts.protocol === 'grpc') {
    return new GrpcCaller(opts.mode === 'app'
      ? { url: opts.url, appPolicy: opts.appPolicy ?? DEFAULT_APP_POLICY }
      : { url: opts.url, ...(opts.requestTimeoutMs !== undefined ? { deadlineMs: opts.requestTimeoutMs } : {}) });
  }
  const method = opts.method ?? 'GET';
  if (opts.mode === 'app') return new AppResilientCaller({ url: opts.url, method, policy: opts.appPolicy ?? DEFAULT_APP_POLICY });
  return new PlainCaller({
    url: opts.url, method, socketTimeoutMs: opts.socketTimeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS, requestTimeoutMs: opts.requestTimeoutMs,
  });
}

function toRecord(arm: string, seq: number, start: number, latencyMs: number, outcome: CallOutcome): RequestRecord {
  const record: RequestRecord = {
    arm,
    seq,
    start: roundMs(start),
    latencyMs: roundMs(latencyMs),
    status: outcome.status,
    ok: outcome.status >= 200 && outcome.status < 300,
    fastFail: outcome.fastFail,
  };
  if (outcome.error !== undefined) record.error = outcome.error;
  if (outcome.attempts !== undefined) record.attempts = outcome.attempts;
  if (outcome.grpcStatus !== undefined) record.grpcStatus = outcome.grpcStatus;
  if (outcome.replica !== undefined) record.replica = outcome.replica;
  return record;
}

function validateHttpUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`load: url must be an absolute http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`load: url must use http or https, got ${url.protocol}`);
}

function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Throws a clear error naming the bad option, before any traffic is sent. */
export function validateLoadOptions(opts: LoadOptions): void {
  if (opts.protocol !== undefined && opts.protocol !== 'http' && opts.protocol !== 'grpc') {
    throw new Error(`load: protocol must be http or grpc, got ${JSON.stringify(opts.protocol)}`);
  }
  if (opts.protocol === 'grpc') parseGrpcTarget(opts.url);
  else validateHttpUrl(opts.url);
  if (!(opts.rate > 0) || !Number.isFinite(opts.rate)) throw new Error(`load: rate must be a positive number of requests per second, got ${opts.rate}`);
  if (!(opts.durationMs > 0)) throw new Error(`load: durationMs must be > 0 (Infinity runs until aborted), got ${opts.durationMs}`);
  if (opts.mode !== 'none' && opts.mode !== 'app') throw new Error(`load: mode must be none or app, got ${JSON.stringify(opts.mode)}`);
  if (opts.instances !== undefined && !(Number.isInteger(opts.instances) && opts.instances > 0)) {
    throw new Error(`load: instances must be a positive whole number, got ${opts.instances}`);
  }
  if (opts.maxInFlight !== undefined && !(Number.isInteger(opts.maxInFlight) && opts.maxInFlight > 0)) {
    throw new Error(`load: maxInFlight must be a positive whole number, got ${opts.maxInFlight}`);
  }
}
