// HAProxy as a single-threaded keep-alive reverse proxy.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type StartedProcess } from '../harness/children.js';
import { waitForPort } from '../harness/wait-for-port.js';

function haproxyConfig(port: number, upstream: string): string {
  return `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 60s
frontend egress
  bind 127.0.0.1:${port}
  default_backend backend
backend backend
  server upstream ${upstream}
`;
}

export async function startHaproxy(
  scratchDir: string,
  port: number,
  upstream: string,
  cpus: string | undefined,
): Promise<StartedProcess> {
  const configFile = join(scratchDir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig(port, upstream));
  // -db: stay in the foreground, so the PID the harness holds is the one doing the work.
  const started = startProcess('haproxy', 'haproxy', ['-db', '-f', configFile], { cpus });
  await waitForPort('127.0.0.1', port, started);
  return started;
}
