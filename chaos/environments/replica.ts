// One backend replica (a demo-backend process) under a supervisor: after a kill it is replaced on the same address
// after the backend's restart delay, like a Deployment replacing a pod whose IP the Service keeps routing to.
import type { BackendSpec, Faults } from '../experiment/experiment.js';
import type { ProcessRegistry, StartedProcess } from '../runner/processes.js';
import { signal } from '../runner/processes.js';
import { distFile } from '../runner/dist-path.js';

export interface ReplicaEvents {
  onEvent: (action: string, target: string, detail?: string) => void;
}

/** Where the replica listens: loopback with an OS-picked port, or a pod's own address inside its network namespace. */
export interface ReplicaPlacement {
  host: string;
  port: number;
  netns?: string;
}

const LOOPBACK: ReplicaPlacement = { host: '127.0.0.1', port: 0 };

export class Replica {
  readonly id: string;
  port: number;
  private process?: StartedProcess;
  private restartTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Processes started so far: the first one stands for a pod that was already running, warmed up. */
  private starts = 0;

  constructor(
    private readonly spec: BackendSpec,
    readonly index: number,
    private readonly seed: number,
    private readonly registry: ProcessRegistry,
    private readonly events: ReplicaEvents,
    private readonly placement: ReplicaPlacement = LOOPBACK,
  ) {
    this.id = `${spec.name}/${index}`;
    this.port = placement.port;
  }

  get address(): string {
    return `${this.placement.host}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  async start(): Promise<void> {
    this.process = await this.registry.start({
      label: `replica ${this.id}`,
      command: process.execPath,
      args: [distFile('demo-backend', 'main.js'), '--host', this.placement.host, ...backendArgs(this.spec, this.index, this.port, this.seed, this.starts++ === 0 ? 0 : this.spec.readyDelayMs)],
      netns: this.placement.netns,
      ready: (line) => line.msg === 'listening' && typeof line.port === 'number',
    });
    this.port = this.process.readyLine.port as number;
    if (this.stopped) await this.registry.stop(this.process); // the arm ended while this replacement was starting
  }

  /** SIGKILL now; the supervisor starts a replacement on the same port after `restartDelayMs`. */
  kill(restartDelayMs = this.spec.restartDelayMs): void {
    const victim = this.process;
    if (!victim) return;
    this.process = undefined;
    signal(victim.pid, 'SIGKILL');
    void victim.exited.then(() => this.scheduleRestart(restartDelayMs));
  }

  /**
   * A pod deleted: SIGTERM (the backend drains and exits), SIGKILL if it is still there after `graceMs`; the
   * replacement starts the restart delay after it is gone.
   */
  terminate(graceMs: number): void {
    const victim = this.process;
    if (!victim) return;
    this.process = undefined;
    signal(victim.pid, 'SIGCONT'); // a frozen process cannot act on SIGTERM
    signal(victim.pid, 'SIGTERM');
    const killer = setTimeout(() => signal(victim.pid, 'SIGKILL'), graceMs);
    void victim.exited.then(() => {
      clearTimeout(killer);
      this.scheduleRestart(this.spec.restartDelayMs);
    });
  }

  /** Like a Deployment, keeps trying (after the same delay) until a replacement is up or the arm ends. */
  private scheduleRestart(delayMs: number): void {
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      this.start().then(
        () => this.events.onEvent('restarted', this.id, `pid ${this.pid}`),
        (error: Error) => {
          this.events.onEvent('restart-failed', this.id, error.message);
          this.scheduleRestart(delayMs);
        },
      );
    }, delayMs);
  }

  freeze(): void {
    if (this.process) signal(this.process.pid, 'SIGSTOP');
  }

  thaw(): void {
    if (this.process) signal(this.process.pid, 'SIGCONT');
  }

  /** PUT /admin/faults with a partial body; throws (naming the replica) when it is refused or unanswered. */
  async setFaults(faults: Faults): Promise<void> {
    const response = await fetch(`http://${this.address}/admin/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(faults),
      signal: AbortSignal.timeout(5000),
    });
    const body = await response.text();
    if (!response.ok) throw new Error(`${this.id}: PUT /admin/faults answered ${response.status}: ${body}`);
  }

  /** Back to the faults the replica started with. */
  restoreFaults(): Promise<void> {
    return this.setFaults(startupFaults(this.spec.faults));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    if (this.process) await this.registry.stop(this.process);
  }
}

/** The demo-backend's own defaults inject faults, so every unset rate is pinned to 0 here. */
function startupFaults(faults: Faults): Faults {
  return { failureRate: 0, slowRate: 0, transientRate: 0, hang: false, ...faults };
}

function backendArgs(spec: BackendSpec, index: number, port: number, seed: number, readyDelayMs: number): string[] {
  const faults = startupFaults(spec.faults);
  const args = [
    '--port', String(port), '--name', `${spec.name}-${index}`, '--seed', String(seed + index),
    '--ready-delay', `${readyDelayMs}ms`, '--log-level', 'info',
    '--failure-rate', String(faults.failureRate), '--slow-rate', String(faults.slowRate),
    '--transient-rate', String(faults.transientRate),
  ];
  if (faults.failureStatus !== undefined) args.push('--failure-status', String(faults.failureStatus));
  if (faults.slowDelay !== undefined) args.push('--slow-delay', faults.slowDelay);
  if (faults.retryAfter !== undefined) args.push('--retry-after', faults.retryAfter);
  if (spec.protocol === 'grpc') args.push('--grpc', 'on');
  return args;
}
