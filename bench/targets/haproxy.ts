// HAProxy as a single-threaded keep-alive reverse proxy: HTTP/1.1 on both sides, or HTTP/2 cleartext with prior
// knowledge on both sides (`proto h2` on the bind and the server), which also carries gRPC.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type StartedProcess } from '../harness/children.js';
import { waitForPort } from '../harness/wait-for-port.js';

export type HaproxyProtocol = 'http1' | 'h2';

function haproxyConfig(port: number, upstream: string, protocol: HaproxyProtocol): string {
  const proto = protocol === 'h2' ? ' proto h2' : '';
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
  bind 127.0.0.1:${port}${proto}
  default_backend backend
backend backend
  server upstream ${upstream}${proto}
`;
}

export async function startHaproxy(
  scratchDir: string,
  port: number,
  upstream: string,
  cpus: string | undefined,
  { name = 'haproxy', protocol = 'http1' }: { name?: string; protocol?: HaproxyProtocol } = {},
): Promise<StartedProcess> {
  const configFile = join(scratchDir, `${name}.cfg`);
  writeFileSync(configFile, haproxyConfig(port, upstream, protocol));
  // -db: stay in the foreground, so the PID the harness holds is the one doing the work.
  const started = startProcess(name, 'haproxy', ['-db', '-f', configFile], { cpus });
  await waitForPort('127.0.0.1', port, started);
  return started;
}
