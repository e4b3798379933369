#!/usr/bin/env node
/**
 * breakwater --config FILE     run the proxy (or BREAKWATER_CONFIG=FILE)
 * breakwater validate FILE     check a policy file and list every problem
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkPolicyFile } from './config/policy-check.js';
import { PolicyError } from './config/policy-error.js';

const USAGE = `Usage:
  breakwater --config FILE      run the proxy with the policy in FILE (or set BREAKWATER_CONFIG)
  breakwater validate FILE      check FILE; prints every problem by its path, exits 1 if there is one
  breakwater --help | --version

Signals: SIGTERM drains gracefully (readiness fails, then in-flight requests finish); SIGHUP reloads the policy.
Environment: BREAKWATER_CONFIG, BREAKWATER_LOG_LEVEL (fatal|error|warn|info|debug|trace|silent).`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function validate(file: string): Promise<number> {
  try {
    const policy = await checkPolicyFile(file);
    const routes = policy.listeners.reduce((n, l) => n + l.routes.length, 0);
    console.log(`${file}: ok (${policy.listeners.length} listener(s), ${routes} route(s), ${policy.upstreams.length} upstream(s))`);
    return 0;
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    console.error(err.message);
    return 1;
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
    });
  } catch (err) {
    console.error(`breakwater: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.version) {
    console.log(version());
    return 0;
  }
  if (positionals[0] === 'validate') {
    if (positionals.length !== 2) {
      console.error(`breakwater validate: expected one FILE\n\n${USAGE}`);
      return 2;
    }
    return validate(positionals[1]!);
  }
  if (positionals.length > 0) {
    console.error(`breakwater: unknown command "${positionals[0]}"\n\n${USAGE}`);
    return 2;
  }
  const file = values.config ?? process.env.BREAKWATER_CONFIG;
  if (!file) {
    console.error(`breakwater: no policy file: pass --config FILE or set BREAKWATER_CONFIG\n\n${USAGE}`);
    return 2;
  }
  // Loaded only to run: validate, --help and --version need none of the server's dependencies.
  const { runProxy } = await import('./main.js');
  return runProxy(file);
}

process.exitCode = await main(process.argv.slice(2));
