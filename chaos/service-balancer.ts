// What a ClusterIP Service gives the direct arms: one address, round-robin per connection over the replicas whose
// readiness probe (/readyz) passes. Like a kubelet probe: 1 s timeout, out after 2 failures in a row, back after 1 pass.
import { TcpForwarder } from './tcp-forwarder.js';

const PROBE_TIMEOUT_MS = 1000;
const FAILURE_THRESHOLD = 2;

export interface ProbeTarget {
  id: string;
  address: string;
}

export class ServiceBalancer {
  private readonly ready = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly forwarder: TcpForwarder;
  private next = 0;
  private timer?: NodeJS.Timeout;
  private probing?: Promise<void>;

  constructor(
    private readonly replicas: () => ProbeTarget[],
    private readonly periodMs: number,
    private readonly onChange: (id: string, ready: boolean) => void = () => {},
  ) {
    this.forwarder = new TcpForwarder({ pickTarget: () => this.pick() });
  }

  /** Probes once (so the service starts with its ready replicas), then keeps probing every period. */
  async start(): Promise<string> {
    await this.probeAll();
    this.timer = setInterval(() => {
      this.probing ??= this.probeAll().finally(() => (this.probing = undefined));
    }, this.periodMs);
    return this.forwarder.listen();
  }

  readyCount(): number {
    return this.ready.size;
  }

  private pick(): string | undefined {
    const candidates = this.replicas().filter((r) => this.ready.has(r.id));
    if (candidates.length === 0) return undefined;
    return candidates[this.next++ % candidates.length]!.address;
  }

  private async probeAll(): Promise<void> {
    await Promise.all(
      this.replicas().map(async (replica) => {
        const passed = await probe(replica.address, PROBE_TIMEOUT_MS);
        const failures = passed ? 0 : (this.failures.get(replica.id) ?? 0) + 1;
        this.failures.set(replica.id, failures);
        const isReady = passed || (this.ready.has(replica.id) && failures < FAILURE_THRESHOLD);
        if (isReady === this.ready.has(replica.id)) return;
        if (isReady) this.ready.add(replica.id);
        else this.ready.delete(replica.id);
        this.onChange(replica.id, isReady);
      }),
    );
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.probing;
    await this.forwarder.close();
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
