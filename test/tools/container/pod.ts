/**
 * A pod made of podman containers, as Kubernetes makes one: a holder ("pause") container owns the network namespace
 * and every container of the pod joins it, so they share one loopback and one address. The holder runs the image's
 * own node (no pause image is reachable here). Traffic from the tests enters the namespace with nsenter, the way the
 * kubelet's probes reach a pod: nothing is published on the host.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { IMAGE, LIMIT_FLAGS, podman, podmanOk } from './podman.js';
import { CHART_SECURITY_FLAGS } from './security-flags.js';

const NETNS_CLIENT = fileURLToPath(new URL('./netns-client.mjs', import.meta.url));

export interface PodOptions {
  /** A podman network the pod joins (default: none, loopback only). */
  network?: string;
  /** /etc/hosts entries of the pod: [name, address]; one name may appear with several addresses. */
  hosts?: Array<[string, string]>;
}

export interface HttpResult {
  status?: number;
  replica?: string;
  body?: string;
  error?: string;
  ms: number;
}

export class Pod {
  private readonly containers: string[] = [];
  private address: string | undefined;
  private netnsPath: string | undefined;

  private constructor(readonly name: string) {}

  static create(name: string, opts: PodOptions = {}): Pod {
    const pod = new Pod(name);
    pod.containers.push(name);
    pod.startOrRemove([
      'run', '--detach', '--name', name, '--network', opts.network ?? 'none',
      ...(opts.hosts ?? []).flatMap(([host, address]) => ['--add-host', `${host}:${address}`]),
      ...LIMIT_FLAGS, ...CHART_SECURITY_FLAGS,
      '--entrypoint', 'node', IMAGE, '-e', 'setInterval(() => {}, 2 ** 30)',
    ]);
    return pod;
  }

  /** `podman run`; a container left created but not started is removed with the whole pod, and the error thrown. */
  private startOrRemove(args: string[]): void {
    try {
      podmanOk(args);
    } catch (err) {
      this.remove();
      throw err;
    }
  }

  /** Starts a container of the pod from the image; returns its podman name (POD-CONTAINER). */
  start(container: string, flags: string[], args: string[] = [], image = IMAGE): string {
    const name = `${this.name}-${container}`;
    this.containers.push(name);
    this.startOrRemove(['run', '--detach', '--name', name, '--network', `container:${this.name}`, ...LIMIT_FLAGS, ...flags, image, ...args]);
    return name;
  }

  /** The pod's address on its network. */
  ip(): string {
    this.address ??= podmanOk(['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', this.name]);
    return this.address;
  }

  /** The pod's network namespace, for nsenter. */
  private netns(): string {
    this.netnsPath ??= `/proc/${podmanOk(['inspect', '--format', '{{.State.Pid}}', this.name])}/ns/net`;
    return this.netnsPath;
  }

  /** `count` GETs one after another from inside the pod's network namespace. */
  async get(url: string, count = 1, timeoutMs = 5_000): Promise<HttpResult[]> {
    const lines = await this.client({ get: url, count, timeoutMs }, () => {});
    return JSON.parse(lines.at(-1)!) as HttpResult[];
  }

  /**
   * Polls `url` from inside the pod until it answers 200, with a body matching `match` if given; throws, saying what,
   * when `deadlineMs` pass first.
   */
  async waitFor(url: string, what: string, deadlineMs = 30_000, match?: RegExp): Promise<HttpResult> {
    const lines = await this.client({ poll: url, match: match?.source, flags: match?.flags, deadlineMs }, () => {}, deadlineMs + 10_000);
    const result = JSON.parse(lines.at(-1)!) as HttpResult;
    if (result.status !== 200 || (match && !match.test(result.body ?? ''))) {
      throw new Error(`${what}: ${url} did not answer 200${match ? ` matching ${match}` : ''} within ${deadlineMs} ms: ${JSON.stringify(result).slice(0, 2000)}`);
    }
    return result;
  }

  /**
   * Runs netns-client.mjs inside the pod's network namespace; `onLine` sees each line of its output as it comes.
   * Resolves with all the lines once it exits 0.
   */
  client(spec: object, onLine: (line: string) => void, timeoutMs = 60_000): Promise<string[]> {
    const child = spawn('nsenter', [`--net=${this.netns()}`, process.execPath, NETNS_CLIENT, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs,
    });
    const lines: string[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    createInterface({ input: child.stdout }).on('line', (line) => { lines.push(line); onLine(line); });
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (code === 0) resolve(lines);
        else reject(new Error(`netns client ${JSON.stringify(spec)} exited ${code ?? signal}: ${stderr}`));
      });
    });
  }

  logs(container: string): string {
    const result = podman(['logs', container]);
    return result.stdout + result.stderr;
  }

  /** Every container's output, labelled, for failure messages. */
  allLogs(): string {
    return this.containers.slice(1).map((name) => `--- ${name}:\n${this.logs(name)}`).join('\n');
  }

  /** Removes every container of the pod, the holder last; safe to call twice. */
  remove(): void {
    for (const name of this.containers.splice(0).reverse()) podman(['rm', '--force', '--time', '0', name]);
  }
}
