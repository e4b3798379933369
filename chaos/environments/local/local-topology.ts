// One arm's world on this machine, started fresh per arm: supervised replicas per backend, a blackhole relay in front
// of each replica the timeline partitions, and either a service balancer per backend (direct arms) or Breakwater
// given every replica address (proxy arms, like a headless Service).
import path from 'node:path';
import type { BackendSpec, Experiment, SidecarPolicy } from '../../experiment/experiment.js';
import { BlackholeRelay } from '../blackhole-relay.js';
import { startBreakwater, type RunningBreakwater } from '../breakwater-process.js';
import { breakwaterConfigYaml } from '../../experiment/policy.js';
import type { ProcessRegistry } from '../../runner/processes.js';
import { waitUntilReady } from '../readiness-probe.js';
import { Replica } from '../replica.js';
import { ServiceBalancer } from './service-balancer.js';

export interface TopologyOptions {
  experiment: Experiment;
  registry: ProcessRegistry;
  seed: number;
  /** Breakwater's policy for this arm; undefined for the direct arms. */
  proxyPolicy?: SidecarPolicy;
  /** The client is given every replica address instead of the Service's one (see baseUrlFor). */
  clientSideBalancing?: boolean;
  /** Where Breakwater's generated policy file goes. */
  runDir: string;
  armName: string;
  onEvent: (action: string, target: string, detail?: string) => void;
}

export interface ReplicaHandle {
  replica: Replica;
  relay?: BlackholeRelay;
  /** The address clients use: the relay's when there is one. */
  address: string;
}

export class LocalTopology {
  readonly replicas = new Map<string, ReplicaHandle[]>();
  private readonly balancers = new Map<string, { balancer: ServiceBalancer; address: string }>();
  breakwater?: RunningBreakwater;
  readonly gracePeriodMs: number;

  constructor(private readonly options: TopologyOptions) {
    this.gracePeriodMs = options.experiment.topology.gracePeriodMs;
  }

  async start(): Promise<void> {
    const { experiment } = this.options;
    const relayed = new Set(
      experiment.timeline.filter((a) => a.action === 'blackhole').flatMap((a) => this.targetIds(a.target!.backend, a.target!.replica)),
    );
    for (const backend of experiment.topology.backends) {
      this.replicas.set(backend.name, await Promise.all(
        Array.from({ length: backend.replicas }, (_, i) => this.startReplica(backend, i, relayed)),
      ));
    }
    const allReady = () => waitUntilReady(this.allReplicas().map((h) => ({ id: h.replica.id, address: h.replica.address })), 30_000);
    if (this.options.proxyPolicy) {
      const yaml = breakwaterConfigYaml(this.options.proxyPolicy, experiment.topology, (b) => this.addressesOf(b));
      // Breakwater boots while the replicas turn ready: its health checks gate them in like the Service's probes.
      const [, breakwater] = await Promise.all([allReady(), startBreakwater(
        this.options.registry,
        path.join(this.options.runDir, `breakwater-${this.options.armName.replace(/[^a-z0-9-]/gi, '_')}.yaml`),
        yaml,
      )]);
      this.breakwater = breakwater;
    } else {
      await allReady();
      for (const backend of experiment.topology.backends) {
        const balancer = new ServiceBalancer(
          () => this.replicas.get(backend.name)!.map((h) => ({ id: h.replica.id, address: h.address })),
          experiment.topology.readinessPeriodMs,
          (id, ready) => this.options.onEvent(ready ? 'endpoint-ready' : 'endpoint-not-ready', id),
        );
        this.balancers.set(backend.name, { balancer, address: await balancer.start() });
      }
    }
  }

  private async startReplica(backend: BackendSpec, index: number, relayed: Set<string>): Promise<ReplicaHandle> {
    const replica = new Replica(backend, index, this.options.seed, this.options.registry, { onEvent: this.options.onEvent });
    await replica.start();
    if (!relayed.has(replica.id)) return { replica, address: replica.address };
    const relay = new BlackholeRelay(() => replica.address);
    return { replica, relay, address: await relay.listen() };
  }

  allReplicas(): ReplicaHandle[] {
    return [...this.replicas.values()].flat();
  }

  addressesOf(backend: string): string[] {
    return this.replicas.get(backend)!.map((h) => h.address);
  }

  /** The base URL the arm's client calls for a backend: Breakwater's listener, every replica address, or the service address. */
  baseUrlFor(backend: string): string {
    if (this.breakwater) return this.breakwater.listenerUrl;
    if (this.options.clientSideBalancing) return `http://${this.addressesOf(backend).join(',')}`;
    return `http://${this.balancers.get(backend)!.address}`;
  }

  targetIds(backend: string, replica: number | 'all'): string[] {
    const count = this.options.experiment.topology.backends.find((b) => b.name === backend)!.replicas;
    return replica === 'all' ? Array.from({ length: count }, (_, i) => `${backend}/${i}`) : [`${backend}/${replica}`];
  }

  handles(backend: string, replica: number | 'all'): ReplicaHandle[] {
    const all = this.replicas.get(backend)!;
    return replica === 'all' ? all : [all[replica]!];
  }

  /** Stops the balancers, relays, Breakwater and replicas; safe to call on a half-started topology. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.balancers.values()].map((b) => b.balancer.close()));
    if (this.breakwater) await this.options.registry.stop(this.breakwater.process);
    await Promise.allSettled(this.allReplicas().map(async (h) => {
      await h.relay?.close();
      await h.replica.stop();
    }));
  }
}
