// nginx in both roles: the `return 200` upstream and a keep-alive reverse proxy (one worker each).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type StartedProcess } from '../harness/children.js';
import { childPids } from '../harness/proc-stats.js';
import { waitForPort } from '../harness/wait-for-port.js';

const WORKER_TIMEOUT_MS = 5000;

export interface NginxInstance {
  process: StartedProcess;
  /** The single worker that serves requests: its CPU and RSS are what is measured. */
  workerPid: number;
}

function mainConfig(name: string, scratchDir: string, httpBlock: string): string {
  // Workers drop to "nobody" by default and could not read the harness's private scratch directory.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  const temp = (kind: string): string => `${kind}_temp_path ${join(scratchDir, `${name}-${kind}`)};`;
  return `${user}
worker_processes 1;
daemon off;
pid ${join(scratchDir, `${name}.pid`)};
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}
  keepalive_requests 10000000;
  keepalive_timeout 60s;
${httpBlock}
}
`;
}

/** Upstream on `port` at every address in `hosts`; GET /big serves `bigFile`. */
export function nginxUpstreamConfig(scratchDir: string, hosts: readonly string[], port: number, bigFile: string): string {
  const listens = hosts.map((host) => `    listen ${host}:${port};`).join('\n');
  return mainConfig(
    'nginx-upstream',
    scratchDir,
    `  server {
${listens}
    location = /big { default_type application/octet-stream; alias ${bigFile}; }
    location / { return 200 "ok\\n"; }
  }`,
  );
}

/** Reverse proxy with upstream keep-alive; buffering off so bodies stream like the Node proxies do. */
export function nginxProxyConfig(scratchDir: string, port: number, upstream: string): string {
  return mainConfig(
    'nginx-proxy',
    scratchDir,
    `  upstream backend { server ${upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 0;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }`,
  );
}

/**
 * HTTP/2 cleartext with prior knowledge in, HTTP/2 to the upstream through grpc_pass: nginx's only way to speak HTTP/2
 * to an upstream (proxy_pass speaks HTTP/1.x only), so it serves the plain h2c comparison as well as the gRPC one. Each
 * upstream connection carries one request at a time (nginx does not multiplex them) and is kept alive for the next.
 */
export function nginxGrpcProxyConfig(name: string, scratchDir: string, port: number, upstream: string): string {
  return mainConfig(
    name,
    scratchDir,
    `  upstream backend { server ${upstream}; keepalive 64; keepalive_requests 10000000; keepalive_timeout 60s; }
  server {
    listen 127.0.0.1:${port} http2;
    client_max_body_size 0;
    location / { grpc_pass grpc://backend; }
  }`,
  );
}

export async function startNginx(
  name: string,
  scratchDir: string,
  config: string,
  port: number,
  cpus: string | undefined,
): Promise<NginxInstance> {
  const configFile = join(scratchDir, `${name}.conf`);
  writeFileSync(configFile, config);
  const started = startProcess(name, 'nginx', ['-e', 'stderr', '-p', scratchDir, '-c', configFile], { cpus });
  await waitForPort('127.0.0.1', port, started);
  // The master binds the port before it forks the worker: wait for the worker too.
  const deadline = Date.now() + WORKER_TIMEOUT_MS;
  for (;;) {
    const [workerPid] = childPids(started.pid);
    if (workerPid !== undefined) return { process: started, workerPid };
    if (Date.now() > deadline) throw new Error(`${name}: no worker process under master ${started.pid} within ${WORKER_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
