#!/usr/bin/env node
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseLoadArgs, parseServeArgs, USAGE, type CommonArgs } from './args.js';
import { runLoad } from './load.js';
import { readAppPolicy } from './policy.js';
import { startService } from './service.js';
import type { AppPolicy } from './types.js';

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'load') return load(rest);
  if (command === 'serve') return serve(rest);
  throw new Error(command === undefined || command === '--help' ? USAGE : `unknown command ${JSON.stringify(command)}\n${USAGE}`);
}

async function load(argv: string[]): Promise<void> {
  const args = parseLoadArgs(argv);
  const appPolicy = await policyFor(args);
  const out = args.outFile ? createWriteStream(args.outFile) : undefined;
  const { summary } = await runLoad({
    url: args.url,
    rate: args.rate,
    durationMs: args.durationMs,
    mode: args.mode,
    arm: args.arm,
    method: args.method,
    protocol: args.protocol,
    appPolicy,
    onRecord: out ? (record) => out.write(`${JSON.stringify(record)}\n`) : undefined,
  });
  if (out) await closeStream(out);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

async function serve(argv: string[]): Promise<void> {
  const args = parseServeArgs(argv, process.env);
  const service = await startService({
    url: args.url,
    rate: args.rate,
    mode: args.mode,
    arm: args.arm,
    method: args.method,
    appPolicy: await policyFor(args),
    port: args.port,
    host: args.host,
  });
  log({ msg: 'listening', port: service.port, url: args.url, rate: args.rate, mode: args.mode });
  const shutdown = (signal: string): void => {
    log({ msg: 'stopping', signal });
    service.stop().then(
      () => process.exit(0),
      (err: Error) => fail(err),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

function policyFor(args: CommonArgs): Promise<AppPolicy | undefined> {
  return args.policyFile ? readAppPolicy(args.policyFile) : Promise.resolve(undefined);
}

async function closeStream(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'close');
}

function log(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
}

function fail(err: Error): void {
  process.stderr.write(`demo-client: ${err.message}\n`);
  process.exit(1);
}

main(process.argv.slice(2)).catch(fail);
