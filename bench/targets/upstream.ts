// The upstream every target forwards to: nginx `return 200` when installed (cheap, so the proxies are
// what is measured), else the Node upstream. Pinned to its own CPU, away from the proxies.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess } from '../harness/children.js';
import { freePort } from '../harness/free-port.js';
import { nginxUpstreamConfig, startNginx } from './nginx.js';

export interface Upstream {
  kind: 'nginx' | 'node';
  /** host:port on 127.0.0.1. */
  address: string;
  port: number;
}

/** One of the Node servers in servers/ (`script` without its extension); resolves once it has said where it listens. */
export async function startServerUpstream(
  name: string,
  script: string,
  args: readonly string[],
  cpus: string | undefined,
): Promise<Upstream> {
  const path = fileURLToPath(new URL(`./servers/${script}.js`, import.meta.url));
  const started = startProcess(name, process.execPath, [path, ...args], { cpus });
  const line = await started.waitForLine((text) => text.includes('"listening"'), 15_000);
  const address = (JSON.parse(line) as { address: string }).address;
  return { kind: 'node', address, port: Number(address.split(':')[1]) };
}

/** The Node upstream, also used for the scenarios that need slow and flaky answers. */
export function startNodeUpstream(name: string, hosts: readonly string[], cpus: string | undefined): Promise<Upstream> {
  return startServerUpstream(name, 'node-upstream', ['--hosts', hosts.join(',')], cpus);
}

/** Listens on every address in `hosts` (same port) so that scale runs can use many distinct endpoints. */
export async function startMainUpstream(
  scratchDir: string,
  hosts: readonly string[],
  useNginx: boolean,
  cpus: string | undefined,
): Promise<Upstream> {
  if (!useNginx) return startNodeUpstream('node-upstream', hosts, cpus);
  const bigFile = join(scratchDir, 'big.bin');
  writeFileSync(bigFile, Buffer.alloc(1024 * 1024, 'b'));
  const port = await freePort();
  await startNginx('nginx-upstream', scratchDir, nginxUpstreamConfig(scratchDir, hosts, port, bigFile), port, cpus);
  return { kind: 'nginx', address: `127.0.0.1:${port}`, port };
}
