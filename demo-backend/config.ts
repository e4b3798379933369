import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  checkCount,
  checkDelayMs,
  checkErrorStatus,
  checkRate,
  checkRetryAfterSeconds,
  checkSeed,
  InvalidSettingError,
  type Faults,
} from './faults.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface BackendConfig {
  host: string;
  port: number;
  /** Undefined means backend-<bound port>. */
  name: string | undefined;
  faults: Faults;
  readyDelayMs: number;
  logLevel: LogLevel;
  /** Also serve the gRPC demo service and grpc.health.v1 on the same port (h2c with prior knowledge). */
  grpc: boolean;
}

interface FlagSpec {
  env?: string;
  fallback?: string;
  help: string;
}

/** Every flag, its env var and default; the single source for parsing and --help. */
const FLAGS = {
  host: { env: 'BACKEND_HOST', fallback: '127.0.0.1', help: 'address to listen on' },
  port: { env: 'BACKEND_PORT', fallback: '18001', help: 'port to listen on; 0 lets the OS pick' },
  name: { env: 'BACKEND_NAME', help: 'replica name sent in x-backend-replica (default backend-<port>)' },
  'failure-rate': { env: 'BACKEND_FAILURE_RATE', fallback: '0.3', help: 'share of /api/data answered with --failure-status, 0..1' },
  'failure-status': { env: 'BACKEND_FAILURE_STATUS', fallback: '500', help: 'status of injected failures, 400..599' },
  'slow-rate': { env: 'BACKEND_SLOW_RATE', fallback: '0.2', help: 'share of /api/data delayed by --slow-delay, 0..1' },
  'slow-delay': { env: 'BACKEND_SLOW_DELAY', fallback: '5s', help: 'delay of slow responses (250ms, 3s, 1m)' },
  'transient-rate': { env: 'BACKEND_TRANSIENT_RATE', fallback: '0.5', help: 'share of /api/transient answered 429, 0..1' },
  'retry-after': { env: 'BACKEND_RETRY_AFTER', fallback: '1s', help: 'Retry-After of 429s, sent as whole seconds (min 1)' },
  seed: { env: 'BACKEND_SEED', help: 'seed of the fault random source, 0..4294967295 (default random, logged)' },
  'ready-delay': { env: 'BACKEND_READY_DELAY', fallback: '0s', help: '/readyz answers 503 until this long after start' },
  'log-level': { env: 'BACKEND_LOG_LEVEL', fallback: 'info', help: LOG_LEVELS.join('|') },
  grpc: { env: 'BACKEND_GRPC', fallback: 'off', help: 'also serve gRPC (demo.proto, grpc.health.v1) on the same port, h2c: on|off' },
} satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof FLAGS;

export const USAGE = [
  'Usage: node dist/demo-backend/main.js [flags]',
  '',
  'A fault-injecting demo upstream. Each flag can also be set by its environment variable.',
  '',
  ...Object.entries(FLAGS).map(([flag, spec]: [string, FlagSpec]) => {
    const extras = [spec.env, spec.fallback === undefined ? undefined : `default ${spec.fallback}`].filter(Boolean);
    return `  --${flag.padEnd(16)} ${spec.help} [${extras.join(', ')}]`;
  }),
  '  --help             print this text',
].join('\n');

/** Raised for any bad flag, env var or value; main prints it and exits 2. */
export class ConfigError extends Error {}

/** Turns numeric text into a number so the shared checks can judge it; other text is passed on to be rejected. */
function numeric(text: string): unknown {
  return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
}

/** Returns undefined when --help was asked for. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): BackendConfig | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }])),
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (parsed.values.help) return undefined;
  const values = parsed.values as Partial<Record<FlagName, string>>;

  /** The flag's text from the command line, else its env var, else its default; `label` names where it came from. */
  const read = (flag: FlagName): { text: string | undefined; label: string } => {
    const spec: FlagSpec = FLAGS[flag];
    if (values[flag] !== undefined) return { text: values[flag], label: `--${flag}` };
    const fromEnv = spec.env === undefined ? undefined : env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') return { text: fromEnv, label: `--${flag} (${spec.env})` };
    return { text: spec.fallback, label: `--${flag}` };
  };
  const check = <T>(flag: FlagName, checker: (value: unknown, field: string) => T, asNumber = true): T => {
    const { text, label } = read(flag);
    return checker(text === undefined || !asNumber ? text : numeric(text), label);
  };

  try {
    const seedText = read('seed').text;
    const faults: Faults = {
      failureRate: check('failure-rate', checkRate),
      failureStatus: check('failure-status', checkErrorStatus),
      slowRate: check('slow-rate', checkRate),
      slowDelay: check('slow-delay', checkDelayMs, false),
      transientRate: check('transient-rate', checkRate),
      retryAfter: check('retry-after', checkRetryAfterSeconds, false),
      hang: false,
      failNext: 0,
      seed: seedText === undefined ? randomInt(0, 2 ** 32) : check('seed', checkSeed),
    };
    const port = check('port', checkCount);
    if (port > 65_535) throw new InvalidSettingError(read('port').label, 'must be a port from 0 to 65535', port);
    const host = read('host').text ?? '';
    if (host.trim() === '') throw new InvalidSettingError(read('host').label, 'must not be empty', host);
    const grpc = read('grpc');
    if (grpc.text !== 'on' && grpc.text !== 'off') throw new InvalidSettingError(grpc.label, 'must be on or off', grpc.text);
    const logLevel = read('log-level');
    if (!LOG_LEVELS.includes(logLevel.text as LogLevel)) {
      throw new InvalidSettingError(logLevel.label, `must be one of ${LOG_LEVELS.join('|')}`, logLevel.text);
    }
    return {
      host,
      port,
      name: read('name').text,
      faults,
      readyDelayMs: check('ready-delay', checkDelayMs, false),
      logLevel: logLevel.text as LogLevel,
      grpc: grpc.text === 'on',
    };
  } catch (error) {
    if (error instanceof InvalidSettingError) throw new ConfigError(error.message);
    throw error;
  }
}
