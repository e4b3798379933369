// One Service's endpoints, as the endpoints controller and kube-proxy keep them: readiness (probed from the host, as
// the kubelet does) decides, and each change reaches the Service's rules only after the propagation delay. A deleted
// pod leaves at once (then the delay); a failed node's pods stay endpoints until the node-failure delay has passed,
// because nothing reports them unready before the node controller gives up on the node.
import { ReadinessProbe } from '../readiness-probe.js';
import type { ServiceVip } from './service-vip.js';

export interface EndpointTarget {
  id: string;
  /** Where the kubelet probes /readyz: the pod's own address. */
  probeAddress: string;
  /** What the Service sends connections to: the pod's address, or a relay in front of it. */
  endpointAddress: string;
}

export interface EndpointDelays {
  readinessPeriodMs: number;
  propagationMs: number;
  nodeFailureMs: number;
}

type Override = 'frozen' | 'removed';

export class EndpointController {
  private readonly probe: ReadinessProbe;
  private readonly overrides = new Map<string, Override>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private published: string[] = [];
  private publishing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly service: ServiceVip,
    private readonly targets: EndpointTarget[],
    private readonly delays: EndpointDelays,
    private readonly onEvent: (action: string, target: string, detail?: string) => void,
  ) {
    this.probe = new ReadinessProbe(
      () => targets.map((t) => ({ id: t.id, address: t.probeAddress })),
      delays.readinessPeriodMs,
      () => this.propagate(),
    );
  }

  /** Publishes the pods (all just seen ready) at once: every arm starts from a settled Service. */
  async start(): Promise<void> {
    await this.probe.start(this.targets.map((t) => t.id));
    await this.publish();
  }

  /** `delete`: the endpoint goes as soon as the pod is terminating, and comes back once its replacement is ready. */
  podDeleted(id: string): void {
    this.overrides.set(id, 'removed');
    this.propagate();
  }

  podReplaced(id: string): void {
    if (this.overrides.get(id) !== 'removed') return;
    this.overrides.delete(id);
    this.propagate();
  }

  /** `node-failure`: nothing changes until the node-failure delay passes, then the endpoint is removed. */
  nodeFailed(id: string): void {
    this.overrides.set(id, 'frozen');
    this.later(this.delays.nodeFailureMs, () => {
      if (this.overrides.get(id) !== 'frozen') return;
      this.overrides.set(id, 'removed');
      void this.publishNow();
    });
  }

  nodeRecovered(id: string): void {
    this.overrides.delete(id);
    this.propagate();
  }

  /** The endpoint set now; a frozen one keeps whatever was last published for it. */
  private desired(): string[] {
    return this.targets
      .filter((t) => {
        const override = this.overrides.get(t.id);
        if (override === 'removed') return false;
        if (override === 'frozen') return this.published.includes(t.endpointAddress);
        return this.probe.isReady(t.id);
      })
      .map((t) => t.endpointAddress);
  }

  /** A change reaches the rules at the next sync, one propagation delay later, which applies the state of then. */
  private propagate(): void {
    this.later(this.delays.propagationMs, () => void this.publishNow());
  }

  private publishNow(): Promise<void> {
    this.publishing = this.publishing.then(() => this.publish());
    return this.publishing;
  }

  private async publish(): Promise<void> {
    const endpoints = this.desired();
    if (this.stopped || sameSet(endpoints, this.published)) return;
    const removed = this.targets.filter((t) => this.published.includes(t.endpointAddress) && !endpoints.includes(t.endpointAddress));
    const added = this.targets.filter((t) => !this.published.includes(t.endpointAddress) && endpoints.includes(t.endpointAddress));
    try {
      await this.service.setEndpoints(endpoints);
      this.published = endpoints;
      for (const t of removed) this.onEvent('endpoint-removed', t.id);
      for (const t of added) this.onEvent('endpoint-added', t.id);
    } catch (error) {
      this.onEvent('endpoint-update-failed', this.service.vip, (error as Error).message);
    }
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    await this.probe.stop();
    await this.publishing;
  }
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
