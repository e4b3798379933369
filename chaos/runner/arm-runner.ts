// Runs one arm: a fresh environment, the load and the action timeline started together, sampling throughout.
// Rollbacks and teardown always run, whether the arm finishes, an action throws or the run is interrupted.
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { AppPolicy, RequestRecord } from '../../demo-client/load.js';
import type { ArmEnvironment, EventSink } from '../environments/arm-environment.js';
import { buildArmResult } from './arm-result.js';
import type { ArmSpec, Experiment } from '../experiment/experiment.js';
import { inProcessLoad } from './load-driver.js';
import type { Progress } from './progress.js';
import type { ArmEvent, ArmResult } from '../results.js';
import { Sampler } from './sampler.js';

/** Backend arrival sampling: a killed replica's count since the last sample is lost, so sample often. */
const ARRIVAL_PERIOD_MS = 250;

/** How the arm's client calls: with resilience coded in (app), or plain with a request timeout. */
export interface ClientSettings {
  appPolicy?: AppPolicy;
  requestTimeoutMs: number;
}

export interface ArmRunContext {
  experiment: Experiment;
  arm: ArmSpec;
  client: ClientSettings;
  /** Shown in progress lines when the run repeats the arms. */
  label?: string;
  progress: Progress;
  /** Aborts the arm (SIGINT/SIGTERM); rollbacks and teardown still run. */
  signal: AbortSignal;
  /** Builds the arm's environment; events it reports go to the arm's event log. */
  environment: (onEvent: EventSink) => ArmEnvironment;
}

export interface ArmRun {
  result: ArmResult;
  records: RequestRecord[];
}

export async function runArm(ctx: ArmRunContext): Promise<ArmRun> {
  const { experiment, arm, progress } = ctx;
  const label = ctx.label ?? arm.name;
  const events: ArmEvent[] = [];
  let loadStart: number | undefined;
  const record: EventSink = (action, target, detail) => {
    if (loadStart === undefined) return; // start-up noise before the load is not part of the timeline
    const event: ArmEvent = { t: Math.round(performance.now() - loadStart), action, ...(target ? { target } : {}), ...(detail ? { detail } : {}) };
    events.push(event);
    progress.line(`[${label}] ${(event.t / 1000).toFixed(1)}s ${action}${target ? ` ${target}` : ''}${detail ? `: ${detail}` : ''}`);
  };
  const environment = ctx.environment(record);
  const stopLoad = new AbortController();
  setMaxListeners(0, stopLoad.signal); // every request in flight listens for the stop
  const timers: NodeJS.Timeout[] = [];
  let sampler: Sampler | undefined;
  let loads: Promise<unknown> | undefined;
  let onInterrupt: (() => void) | undefined;
  try {
    progress.line(`[${label}] starting`);
    await environment.start();
    ctx.signal.throwIfAborted();
    const load = environment.load ?? inProcessLoad;
    // Freshly started processes are cold (JIT, first connections); every arm gets the same warm-up, unrecorded.
    await Promise.all(experiment.load.streams.map((stream) => load.warmUp(environment.urlFor(stream), stream.method, experiment.protocol)));
    const targets = environment.samplerTargets();
    loadStart = performance.now();
    if (targets) {
      sampler = new Sampler(targets, experiment.fineArrivals ? 100 : ARRIVAL_PERIOD_MS);
      await sampler.start(loadStart);
    }
    // A failing action or an interrupt ends the arm at once: rollbacks must not wait for the load to drain.
    let stopArm!: (error: Error) => void;
    const armStopped = new Promise<never>((_, reject) => (stopArm = reject));
    armStopped.catch(() => undefined); // a stop after the load finished has nobody left to tell
    onInterrupt = () => stopArm(ctx.signal.reason as Error);
    ctx.signal.addEventListener('abort', onInterrupt);
    for (const action of experiment.timeline) {
      const target = action.target ? `${action.target.backend}/${action.target.replica}` : undefined;
      const fire = () => environment.apply(action).then(
        (detail) => record(action.action, target, detail),
        (error: Error) => {
          record(action.action, target, `failed: ${error.message}`);
          stopArm(new Error(`action ${action.action}${target ? ` ${target}` : ''} at ${action.atMs} ms failed: ${error.message}`));
        },
      );
      timers.push(setTimeout(fire, Math.max(0, action.atMs - (performance.now() - loadStart))));
    }
    const counts = { sent: 0, ok: 0 };
    const endProgress = progress.loadPhase(label, experiment.load.durationMs, () => counts);
    const recordsByStream = new Map<string, RequestRecord[]>();
    // One pool per arm run, shared by its streams.
    const workers = experiment.load.workers === undefined
      ? undefined
      : { name: `${arm.name}-${process.pid}-${Math.round(performance.now())}`, size: experiment.load.workers };
    loads = Promise.all(experiment.load.streams.map(async (stream) => {
      const { records } = await load.run({
        url: environment.urlFor(stream),
        rate: stream.rate,
        durationMs: experiment.load.durationMs,
        mode: ctx.client.appPolicy ? 'app' : 'none',
        arm: arm.name,
        protocol: experiment.protocol,
        method: stream.method,
        ...(ctx.client.appPolicy ? { appPolicy: ctx.client.appPolicy } : { requestTimeoutMs: ctx.client.requestTimeoutMs }),
        signal: stopLoad.signal,
        ...(workers ? { workers } : {}),
        ...(experiment.load.clients ? { instances: experiment.load.clients } : {}),
        onRecord: (r) => {
          counts.sent += 1;
          if (r.ok) counts.ok += 1;
        },
      });
      recordsByStream.set(stream.name, records);
    }));
    try {
      await Promise.race([loads, armStopped]);
    } finally {
      endProgress();
    }
    const elapsedMs = performance.now() - loadStart;
    await sampler?.stop();
    const result = buildArmResult(experiment, {
      arm, recordsByStream, elapsedMs, arrivals: sampler?.arrivals ?? [], proxy: sampler?.proxy ?? [], events,
    });
    return { result, records: [...recordsByStream.values()].flat() };
  } finally {
    timers.forEach(clearTimeout);
    if (onInterrupt) ctx.signal.removeEventListener('abort', onInterrupt);
    stopLoad.abort();
    try {
      const undone = await environment.rollbackAll();
      if (undone.length) progress.line(`[${label}] rolled back: ${undone.join(', ')}`);
    } finally {
      await sampler?.stop();
      await environment.stop();
      await loads?.catch(() => undefined); // requests still in flight end with their backends
    }
  }
}
