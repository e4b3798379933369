// One measured load window against one target: the load generator's figures plus the proxy
// process's CPU time per request and peak RSS over exactly that window.
import type { ClosedLoopGenerator, ClosedLoopSpec, LoadResult } from './load-types.js';
import { cpuTimeUs, trackRss } from '../harness/proc-stats.js';

export interface WindowMeasurement {
  load: LoadResult;
  cpuUsPerRequest: number | null;
  peakRssBytes: number | null;
}

export async function measureWindow(
  generate: ClosedLoopGenerator,
  pid: number | undefined,
  spec: ClosedLoopSpec,
): Promise<WindowMeasurement> {
  if (pid === undefined) return { load: await generate(spec), cpuUsPerRequest: null, peakRssBytes: null };
  const cpuBefore = cpuTimeUs(pid);
  const rss = trackRss(pid);
  const load = await generate(spec).finally(() => rss.stop());
  const cpuUsPerRequest = load.requests > 0 ? (cpuTimeUs(pid) - cpuBefore) / load.requests : null;
  return { load, cpuUsPerRequest, peakRssBytes: rss.stop().peakBytes };
}

/** Over several windows of one process: the median CPU per request and the peak RSS (null when not measured). */
export function cpuAndPeakRss(windows: readonly WindowMeasurement[]): { cpuUsPerRequest: number | null; peakRssBytes: number | null } {
  const cpu = windows.map((window) => window.cpuUsPerRequest).filter((value): value is number => value !== null);
  const peaks = windows.map((window) => window.peakRssBytes).filter((value): value is number => value !== null);
  return { cpuUsPerRequest: cpu.length > 0 ? median(cpu) : null, peakRssBytes: peaks.length > 0 ? Math.max(...peaks) : null };
}

export const toMB = (bytes: number): number => bytes / (1024 * 1024);

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
