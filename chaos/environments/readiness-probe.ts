// A kubelet readiness probe over a set of replicas: GET /readyz every period with a 1 s timeout; a replica is out
// after 2 failures in a row and back after 1 pass. Both Service implementations (the local balancer and the
// mini-cluster's endpoint controller) follow it.
const PROBE_TIMEOUT_MS = 1000;
const FAILURE_THRESHOLD = 2;

export interface ProbeTarget {
  id: string;
  /** Where /readyz answers ("host:port"). */
  address: string;
}

export class ReadinessProbe {
  private readonly ready = new Set<string>();
  private readonly failures = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private probing?: Promise<void>;

  constructor(
    private readonly targets: () => ProbeTarget[],
    private readonly periodMs: number,
    private readonly onChange: (id: string, ready: boolean) => void = () => {},
  ) {}

  /**
   * Probes once (so the caller starts with the ready replicas), then keeps probing every period. `knownReady`: targets
   * just seen ready, which one slow first probe must not take out.
   */
  async start(knownReady: string[] = []): Promise<void> {
    for (const id of knownReady) this.ready.add(id);
    await this.probeAll();
    this.timer = setInterval(() => {
      this.probing ??= this.probeAll().finally(() => (this.probing = undefined));
    }, this.periodMs);
  }

  isReady(id: string): boolean {
    return this.ready.has(id);
  }

  readyCount(): number {
    return this.ready.size;
  }

  private async probeAll(): Promise<void> {
    await Promise.all(
      this.targets().map(async (target) => {
        const passed = await probe(target.address, PROBE_TIMEOUT_MS);
        const failures = passed ? 0 : (this.failures.get(target.id) ?? 0) + 1;
        this.failures.set(target.id, failures);
        const isReady = passed || (this.ready.has(target.id) && failures < FAILURE_THRESHOLD);
        if (isReady === this.ready.has(target.id)) return;
        if (isReady) this.ready.add(target.id);
        else this.ready.delete(target.id);
        this.onChange(target.id, isReady);
      }),
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.probing;
  }
}

/** Every arm starts from the same state: waits until each target's /readyz passes (its ready-delay passed). */
export async function waitUntilReady(targets: ProbeTarget[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const target of targets) {
    while (!(await probe(target.address, PROBE_TIMEOUT_MS))) {
      if (Date.now() > deadline) throw new Error(`replica ${target.id} not ready within ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function probe(address: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(`http://${address}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}
