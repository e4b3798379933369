// Command line of `npm run bench` and the measurement settings it selects.
import { fileURLToPath } from 'node:url';
import { parseDuration } from '../proxy/config/duration.js';

export interface BenchOptions {
  smoke: boolean;
  outDir: string;
  /** --soak [DURATION]: run only the memory soak, this long (10 min by default, seconds in a smoke run). */
  soakS?: number;
  /** --rate N: the soak's open-loop rate; by default half the measured maximum (bench/soak/memory-soak.ts). */
  soakRps?: number;
  /** --hostile [DURATION]: run only the hostile soak, this long (10 min by default, seconds in a smoke run). */
  hostileS?: number;
  /** --h2: run only the HTTP/2 and gRPC comparison. */
  h2?: boolean;
}

const DEFAULT_OUT_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const USAGE = 'usage: node dist/bench/run.js [--smoke] [--out DIR] [--soak [DURATION] [--rate N] | --hostile [DURATION] | --h2]';
const DEFAULT_SOAK_S = 600;
const SMOKE_SOAK_S = 3;
const DEFAULT_HOSTILE_S = 600;
const SMOKE_HOSTILE_S = 4;

/** The optional DURATION after `flag` at argv[index]: 'default' when none follows, else seconds (1 s or more). */
function durationAfter(flag: string, argv: readonly string[], index: number): 'default' | number {
  const next = argv[index + 1];
  if (next === undefined || next.startsWith('--')) return 'default';
  const ms = parseDuration(next);
  if (ms === undefined || ms < 1000) throw new Error(`${flag} takes a duration of 1s or more like "10m" or "90s", not "${next}"\n${USAGE}`);
  return ms / 1000;
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = { smoke: false, outDir: DEFAULT_OUT_DIR };
  let soak: 'default' | number | undefined;
  let hostile: 'default' | number | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--smoke') options.smoke = true;
    else if (arg === '--h2') options.h2 = true;
    else if (arg === '--out') {
      const dir = argv[++index];
      if (dir === undefined || dir.startsWith('--')) throw new Error(`--out needs a directory\n${USAGE}`);
      options.outDir = dir;
    } else if (arg === '--soak' || arg === '--hostile') {
      const duration = durationAfter(arg, argv, index);
      if (duration !== 'default') index++;
      if (arg === '--soak') soak = duration;
      else hostile = duration;
    } else if (arg === '--rate') {
      const rate = Number(argv[++index]);
      if (!Number.isInteger(rate) || rate < 1) throw new Error(`--rate needs a whole number of requests per second\n${USAGE}`);
      options.soakRps = rate;
    } else throw new Error(`unknown option "${arg}"\n${USAGE}`);
  }
  if (options.soakRps !== undefined && soak === undefined) throw new Error(`--rate only applies to --soak\n${USAGE}`);
  if ([soak, hostile, options.h2].filter((mode) => mode !== undefined).length > 1) {
    throw new Error(`--soak, --hostile and --h2 run on their own, one at a time\n${USAGE}`);
  }
  if (soak !== undefined) options.soakS = soak === 'default' ? (options.smoke ? SMOKE_SOAK_S : DEFAULT_SOAK_S) : soak;
  if (hostile !== undefined) options.hostileS = hostile === 'default' ? (options.smoke ? SMOKE_HOSTILE_S : DEFAULT_HOSTILE_S) : hostile;
  return options;
}

/** The soak's open-loop probe, which measures the proxy's CPU per request without a closed loop's batching. */
export const OPEN_LOOP_PROBE_S = 5;

export interface BenchSettings {
  /** wrk takes whole seconds only; the smoke run uses the Node client for sub-second windows. */
  generator: 'wrk' | 'node';
  windowS: number;
  warmupS: number;
  rounds: number;
  openLoopRps: number;
  streamingS: number;
  /** The window with no load in which every target's idle CPU and wakeups are counted (all targets at once)... */
  idleS: number;
  /** ...after this long without load: V8 collects for some 30 s after a Node process starts, then settles. */
  idleSettleS: number;
}

export function settingsFor(smoke: boolean, wrkAvailable: boolean): BenchSettings {
  if (smoke) return { generator: 'node', windowS: 0.3, warmupS: 0.2, rounds: 1, openLoopRps: 200, streamingS: 0.3, idleS: 0.3, idleSettleS: 0 };
  return {
    generator: wrkAvailable ? 'wrk' : 'node',
    windowS: 3,
    warmupS: 2,
    rounds: 5,
    openLoopRps: 1000,
    streamingS: 2,
    idleS: 10,
    idleSettleS: 30,
  };
}

/**
 * The HTTP/2 comparison's settings: in a smoke run, 1 s windows instead of 0.3 s. h2load counts only the requests a
 * timed window completes, and a cold proxy on a busy machine can complete none in 0.3 s, which would leave no figures.
 */
export function h2SettingsFor(smoke: boolean, settings: BenchSettings): BenchSettings {
  return smoke ? { ...settings, windowS: 1, warmupS: 0.5 } : settings;
}
