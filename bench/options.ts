// Command line of `npm run bench` and the measurement settings it selects.
import { fileURLToPath } from 'node:url';

export interface BenchOptions {
  smoke: boolean;
  outDir: string;
}

const DEFAULT_OUT_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const USAGE = 'usage: node dist/bench/run.js [--smoke] [--out DIR]';

export function parseOptions(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = { smoke: false, outDir: DEFAULT_OUT_DIR };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--smoke') options.smoke = true;
    else if (arg === '--out') {
      const dir = argv[++index];
      if (dir === undefined || dir.startsWith('--')) throw new Error(`--out needs a directory\n${USAGE}`);
      options.outDir = dir;
    } else throw new Error(`unknown option "${arg}"\n${USAGE}`);
  }
  return options;
}

export interface BenchSettings {
  /** wrk takes whole seconds only; the smoke run uses the Node client for sub-second windows. */
  generator: 'wrk' | 'node';
  windowS: number;
  warmupS: number;
  rounds: number;
  openLoopRps: number;
  streamingS: number;
}

export function settingsFor(smoke: boolean, wrkAvailable: boolean): BenchSettings {
  if (smoke) return { generator: 'node', windowS: 0.3, warmupS: 0.2, rounds: 1, openLoopRps: 200, streamingS: 0.3 };
  return {
    generator: wrkAvailable ? 'wrk' : 'node',
    windowS: 3,
    warmupS: 2,
    rounds: 5,
    openLoopRps: 1000,
    streamingS: 2,
  };
}
