// Shared by the mini-cluster tests: whether they can run here, and what a pod sees from inside its namespace.
import { execFile } from 'node:child_process';
import type { Test } from 'tap';
import { clusterUnavailableReason } from '../../../chaos/environments/cluster/support.js';

/**
 * Undefined when the mini-cluster can be made. Otherwise the reason, for `{ skip }`; in CI (env CI set) a missing
 * mini-cluster fails the test instead, so it can never be silently skipped there.
 */
export async function clusterSkip(t: Test): Promise<string | undefined> {
  const reason = await clusterUnavailableReason();
  if (reason === undefined) return undefined;
  if (process.env.CI) {
    t.fail(`the mini-cluster must be available in CI: ${reason}`);
    return reason;
  }
  return `mini-cluster not available here (${reason})`;
}

export type ConnectOutcome = 'connected' | 'refused' | 'timeout' | 'error';

/** Runs a snippet of ES module code with node inside a namespace (the host's: undefined); resolves with its JSON output. */
export function inNamespace<T>(netns: string | undefined, code: string, timeoutMs = 20_000): Promise<T> {
  const node = [process.execPath, '--input-type=module', '-e', code];
  const [command, ...args] = netns ? ['ip', 'netns', 'exec', netns, ...node] : node;
  return new Promise((resolve, reject) => {
    execFile(command!, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`in ${netns ?? 'the host namespace'}: ${stderr.trim() || error.message}`));
      else resolve(JSON.parse(stdout) as T);
    });
  });
}

/** From inside a namespace: `count` GETs, each on a new connection; the replica that answered each, or the error. */
export function getsFrom(netns: string, url: string, count: number): Promise<string[]> {
  return inNamespace<string[]>(netns, `
    import http from 'node:http';
    const get = () => new Promise((resolve) => {
      const request = http.get(${JSON.stringify(url)}, { agent: false, timeout: 2000 }, (response) => {
        response.resume();
        response.on('end', () => resolve(String(response.headers['x-backend-replica'] ?? response.statusCode)));
      });
      request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      request.on('error', (error) => resolve(error.code ?? error.message));
    });
    const seen = [];
    for (let i = 0; i < ${count}; i++) seen.push(await get());
    process.stdout.write(JSON.stringify(seen));
  `);
}

/**
 * One TCP connect from inside a namespace (the host's: undefined): connected, refused (RST) or no answer in time.
 * bash's /dev/tcp starts in milliseconds, where a node per connect would take most of a second on a busy machine.
 */
export function connectFrom(netns: string | undefined, address: string, timeoutMs: number): Promise<ConnectOutcome> {
  const [host, port] = address.split(':');
  const connect = ['timeout', `${timeoutMs / 1000}`, 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`];
  const [command, ...args] = netns ? ['ip', 'netns', 'exec', netns, ...connect] : connect;
  return new Promise((resolve) => {
    execFile(command!, args, (error, _stdout, stderr) => {
      if (!error) resolve('connected');
      else if (error.code === 124) resolve('timeout');
      else resolve(/refused/i.test(stderr) ? 'refused' : 'error');
    });
  });
}

/** Names of network namespaces and host links that exist now. */
export async function hostNames(): Promise<{ namespaces: string[]; links: string[] }> {
  const run = (args: string[]) =>
    new Promise<string>((resolve, reject) => execFile('ip', args, (error, stdout) => (error ? reject(error) : resolve(stdout))));
  const namespaces = (await run(['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
  const links = (await run(['-o', 'link', 'show'])).split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]).filter((n): n is string => !!n);
  return { namespaces, links };
}
