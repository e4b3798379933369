import { parseArgs } from 'node:util';
import { parseDuration } from '../proxy/config/duration.js';
import type { ClientMode, LoadProtocol } from './types.js';

export interface CommonArgs {
  url: string;
  rate: number;
  mode: ClientMode;
  arm: string;
  method: string;
  /** AppPolicy JSON file for `--mode app`. */
  policyFile?: string;
}

export interface LoadArgs extends CommonArgs {
  durationMs: number;
  outFile?: string;
  protocol: LoadProtocol;
}

export interface ServeArgs extends CommonArgs {
  port: number;
  host: string;
}

const COMMON_OPTIONS = {
  url: { type: 'string' },
  rate: { type: 'string' },
  mode: { type: 'string' },
  arm: { type: 'string' },
  method: { type: 'string' },
  policy: { type: 'string' },
} as const;

export const USAGE = `usage:
  main.js load  --url URL --rate R [--duration 30s] [--mode none|app] [--arm NAME] [--out FILE.jsonl] [--policy FILE.json] [--method GET]
                [--protocol http|grpc]   grpc: --url http://HOST:PORT[,HOST:PORT...]/breakwater.demo.Demo/Unary
  main.js serve --url URL --rate R [--port 8080] [--host 0.0.0.0] [--mode none|app] [--arm NAME] [--policy FILE.json]
serve also reads DEMO_CLIENT_URL, DEMO_CLIENT_RATE, DEMO_CLIENT_PORT, DEMO_CLIENT_MODE (flags win).`;

export function parseLoadArgs(argv: string[]): LoadArgs {
  const { values } = parseArgs({
    args: argv, strict: true, options: { ...COMMON_OPTIONS, duration: { type: 'string' }, out: { type: 'string' }, protocol: { type: 'string' } },
  });
  const durationText = values.duration ?? '30s';
  const durationMs = parseDuration(durationText);
  if (durationMs === undefined || durationMs <= 0) throw new Error(`--duration: expected a duration such as 30s or 500ms, got ${JSON.stringify(durationText)}`);
  const protocol = values.protocol ?? 'http';
  if (protocol !== 'http' && protocol !== 'grpc') throw new Error(`--protocol: expected http or grpc, got ${JSON.stringify(protocol)}`);
  return { ...common(values, {}), durationMs, outFile: values.out, protocol };
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv): ServeArgs {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...COMMON_OPTIONS, port: { type: 'string' }, host: { type: 'string' } } });
  const fromEnv = { url: env.DEMO_CLIENT_URL, rate: env.DEMO_CLIENT_RATE, mode: env.DEMO_CLIENT_MODE };
  const portText = values.port ?? env.DEMO_CLIENT_PORT ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port (or DEMO_CLIENT_PORT): expected a port 0-65535, got ${JSON.stringify(portText)}`);
  return { ...common(values, fromEnv), port, host: values.host ?? '0.0.0.0' };
}

type CommonValues = { [K in keyof typeof COMMON_OPTIONS]?: string };

function common(values: CommonValues, env: { url?: string; rate?: string; mode?: string }): CommonArgs {
  const url = values.url ?? env.url;
  if (!url) throw new Error('--url (or DEMO_CLIENT_URL) is required');
  const rateText = values.rate ?? env.rate;
  if (rateText === undefined) throw new Error('--rate (or DEMO_CLIENT_RATE) is required: requests per second');
  const rate = Number(rateText);
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`--rate (or DEMO_CLIENT_RATE): expected a positive number of requests per second, got ${JSON.stringify(rateText)}`);
  const mode = values.mode ?? env.mode ?? 'none';
  if (mode !== 'none' && mode !== 'app') throw new Error(`--mode (or DEMO_CLIENT_MODE): expected none or app, got ${JSON.stringify(mode)}`);
  if (values.policy !== undefined && mode !== 'app') throw new Error('--policy applies to --mode app only');
  return { url, rate, mode, arm: values.arm ?? mode, method: (values.method ?? 'GET').toUpperCase(), policyFile: values.policy };
}
