// Every child process the runner starts goes through here, so teardown (and the last-resort exit hook) can end all
// of them: a chaos run must never leave a backend or a Breakwater behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface StartedProcess {
  label: string;
  pid: number;
  child: ChildProcess;
  /** The first JSON log line that matched `ready` (e.g. the "listening" line). */
  readyLine: Record<string, unknown>;
  exited: Promise<void>;
}

export interface SpawnSpec {
  label: string;
  command: string;
  args: string[];
  /** Matches the JSON log line announcing the process is up. */
  ready: (line: Record<string, unknown>) => boolean;
  /** Further lines after `ready` (e.g. Breakwater announces several listeners) go here. */
  onLine?: (line: Record<string, unknown>) => void;
  timeoutMs?: number;
  /** Runs the process inside this network namespace (`ip netns exec`, which execs: the PID stays the process's). */
  netns?: string;
  /** Gives the process a stdin pipe (child.stdin) for commands; default: no stdin. */
  stdin?: boolean;
}

export class ProcessRegistry {
  /** Registered at spawn, not when ready: a process still starting is ended too. */
  private readonly live = new Map<number, { child: ChildProcess; exited: Promise<void> }>();
  /** Every PID ever started, for the "no process left behind" check. */
  readonly started: number[] = [];
  private readonly onStart: (p: { label: string; pid: number }) => void;

  constructor(onStart: (p: { label: string; pid: number }) => void = () => {}) {
    this.onStart = onStart;
  }

  async start(spec: SpawnSpec): Promise<StartedProcess> {
    const [command, args] = spec.netns ? ['ip', ['netns', 'exec', spec.netns, spec.command, ...spec.args]] : [spec.command, spec.args];
    const child = spawn(command, args, { stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) {
      await new Promise((resolve) => child.once('error', resolve));
      throw new Error(`${spec.label}: could not start ${spec.command}`);
    }
    const pid = child.pid;
    this.started.push(pid);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.live.set(pid, { child, exited });
    void exited.then(() => this.live.delete(pid));
    let stderrTail = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-2000);
    });
    const readyLine = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timeoutMs = spec.timeoutMs ?? 30_000;
      const timer = setTimeout(() => fail(`did not report ready within ${timeoutMs} ms`), timeoutMs);
      let ready = false;
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`${spec.label} (pid ${pid}): ${why}${stderrTail ? `; stderr: ${stderrTail.trim()}` : ''}`));
      };
      child.once('exit', (code, signal) => {
        if (!ready) fail(`exited before it was ready (code ${code}, signal ${signal})`);
      });
      createInterface({ input: child.stdout! }).on('line', (text) => {
        const line = parseJsonLine(text);
        if (!line) return;
        if (!ready && spec.ready(line)) {
          ready = true;
          clearTimeout(timer);
          resolve(line);
        } else if (ready) spec.onLine?.(line);
      });
    }).catch(async (error: unknown) => {
      child.kill('SIGKILL');
      await exited;
      throw error;
    });
    const started: StartedProcess = { label: spec.label, pid, child, readyLine, exited };
    this.onStart({ label: spec.label, pid });
    return started;
  }

  /** Ends one process: SIGCONT first (a frozen process cannot act on SIGTERM), then SIGTERM, then SIGKILL. */
  async stop(p: { pid: number }, graceMs = 3000): Promise<void> {
    const live = this.live.get(p.pid);
    if (!live) return;
    signal(p.pid, 'SIGCONT');
    signal(p.pid, 'SIGTERM');
    const timer = setTimeout(() => signal(p.pid, 'SIGKILL'), graceMs);
    await live.exited;
    clearTimeout(timer);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.live.keys()].map((pid) => this.stop({ pid })));
  }

  /** Synchronous last resort for process 'exit': no time to wait, so SIGKILL whatever is still alive. */
  killAllNow(): void {
    for (const pid of this.live.keys()) signal(pid, 'SIGKILL');
  }
}

/** Sends a signal, ignoring a process that is already gone. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function parseJsonLine(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
