// What a ClusterIP Service gives the direct arms: one address, round-robin per connection over the replicas whose
// readiness probe passes.
import { ReadinessProbe, type ProbeTarget } from '../readiness-probe.js';
import { TcpForwarder } from '../tcp-forwarder.js';

export class ServiceBalancer {
  private readonly probe: ReadinessProbe;
  private readonly forwarder: TcpForwarder;
  private next = 0;

  constructor(
    private readonly replicas: () => ProbeTarget[],
    periodMs: number,
    onChange: (id: string, ready: boolean) => void = () => {},
  ) {
    this.probe = new ReadinessProbe(replicas, periodMs, onChange);
    this.forwarder = new TcpForwarder({ pickTarget: () => this.pick() });
  }

  /** Probes once (so the service starts with its ready replicas), then keeps probing every period. */
  async start(): Promise<string> {
    await this.probe.start();
    return this.forwarder.listen();
  }

  readyCount(): number {
    return this.probe.readyCount();
  }

  private pick(): string | undefined {
    const candidates = this.replicas().filter((r) => this.probe.isReady(r.id));
    if (candidates.length === 0) return undefined;
    return candidates[this.next++ % candidates.length]!.address;
  }

  async close(): Promise<void> {
    await this.probe.stop();
    await this.forwarder.close();
  }
}
