// One arm's mini-cluster: a pod per backend replica (a demo-backend on the pod's own address), and a client pod in
// which the load agent and, for the proxy arms, Breakwater share loopback as the containers of one pod do. The
// direct arms call a Service VIP (kube-proxy style); Breakwater gets every pod address (a headless Service).
// Replicas the timeline delays by `blackhole` get a relay on the host's pod-network address in front of them.
import path from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { BlackholeRelay } from '../blackhole-relay.js';
import { startBreakwater, type RunningBreakwater } from '../breakwater-process.js';
import type { BackendSpec, SidecarPolicy, TargetRef } from '../../experiment/experiment.js';
import type { ReplicaHandle, TopologyOptions } from '../local/local-topology.js';
import { breakwaterConfigYaml } from '../../experiment/policy.js';
import { waitUntilReady } from '../readiness-probe.js';
import { Replica } from '../replica.js';
import { EndpointController } from './endpoints.js';
import type { ClusterNames } from './names.js';
import { ClusterNetwork, type Pod } from './network.js';
import { ServiceVip } from './service-vip.js';

/** Breakwater's ports inside the client pod, as the chart's sidecar uses them: the app calls 127.0.0.1:15001. */
export const EGRESS_PORT = 15001;
export const ADMIN_PORT = 15000;
const BACKEND_PORT = 8080;

export interface ClusterTopologyOptions extends TopologyOptions {
  names: ClusterNames;
}

export interface PodReplicaHandle extends ReplicaHandle {
  pod: Pod;
}

export class ClusterTopology {
  readonly network: ClusterNetwork;
  readonly replicas = new Map<string, PodReplicaHandle[]>();
  readonly endpoints = new Map<string, EndpointController>();
  private readonly services = new Map<string, ServiceVip>();
  readonly gracePeriodMs: number;
  readonly nodeFailureDelayMs: number;
  client?: Pod;
  breakwater?: RunningBreakwater;

  constructor(private readonly options: ClusterTopologyOptions) {
    this.network = new ClusterNetwork(options.names);
    this.gracePeriodMs = options.experiment.topology.gracePeriodMs;
    this.nodeFailureDelayMs = options.experiment.topology.nodeFailureDelayMs;
  }

  get clientPod(): Pod {
    if (!this.client) throw new Error('the client pod is not up');
    return this.client;
  }

  async start(): Promise<void> {
    const { experiment } = this.options;
    await this.network.create();
    this.client = await this.network.addPod('client');
    const relayed = new Set(
      experiment.timeline.filter((a) => a.action === 'blackhole').flatMap((a) => this.targetIds(a.target!.backend, a.target!.replica)),
    );
    for (const backend of experiment.topology.backends) {
      const pods: Pod[] = [];
      for (let i = 0; i < backend.replicas; i++) pods.push(await this.network.addPod(`${backend.name}-${i}`));
      this.replicas.set(backend.name, await Promise.all(pods.map((pod, i) => this.startReplica(backend, i, pod, relayed))));
    }
    await waitUntilReady(this.allReplicas().map((h) => ({ id: h.replica.id, address: h.replica.address })), 30_000);
    if (this.options.proxyPolicy) await this.startBreakwater(this.options.proxyPolicy);
    else await this.startServices();
  }

  private async startReplica(backend: BackendSpec, index: number, pod: Pod, relayed: Set<string>): Promise<PodReplicaHandle> {
    const onEvent: ClusterTopologyOptions['onEvent'] = (action, target, detail) => {
      if (action === 'restarted') this.endpoints.get(backend.name)?.podReplaced(target);
      this.options.onEvent(action, target, detail);
    };
    const replica = new Replica(backend, index, this.options.seed, this.options.registry, { onEvent }, {
      host: pod.ip, port: BACKEND_PORT, netns: pod.netns,
    });
    await replica.start();
    if (!relayed.has(replica.id)) return { replica, address: replica.address, pod };
    const relay = new BlackholeRelay(() => replica.address);
    return { replica, relay, address: await relay.listen(this.network.hostAddress), pod };
  }

  private async startServices(): Promise<void> {
    const { experiment } = this.options;
    for (const [index, backend] of experiment.topology.backends.entries()) {
      const service = new ServiceVip(this.clientPod.netns, this.network.vip(index), index);
      await service.create(this.network.vipCidr);
      this.services.set(backend.name, service);
      const controller = new EndpointController(
        service,
        this.replicas.get(backend.name)!.map((h) => ({ id: h.replica.id, probeAddress: h.replica.address, endpointAddress: h.address })),
        {
          readinessPeriodMs: experiment.topology.readinessPeriodMs,
          propagationMs: experiment.topology.endpointDelayMs,
          nodeFailureMs: experiment.topology.nodeFailureDelayMs,
        },
        this.options.onEvent,
      );
      this.endpoints.set(backend.name, controller);
      await controller.start();
    }
  }

  /** Breakwater in the client pod: the egress listener on the pod's loopback, admin on the pod address for sampling. */
  private async startBreakwater(policy: SidecarPolicy): Promise<void> {
    const { experiment } = this.options;
    const config = parseYaml(breakwaterConfigYaml(policy, experiment.topology, (b) => this.addressesOf(b))) as {
      admin: { address: string };
      listeners: Array<{ address: string }>;
    };
    config.admin.address = `${this.clientPod.ip}:${ADMIN_PORT}`;
    config.listeners[0]!.address = `127.0.0.1:${EGRESS_PORT}`;
    this.breakwater = await startBreakwater(
      this.options.registry,
      path.join(this.options.runDir, `breakwater-${this.options.armName.replace(/[^a-z0-9-]/gi, '_')}.yaml`),
      stringify(config, { aliasDuplicateObjects: false }),
      this.clientPod.netns,
    );
  }

  allReplicas(): PodReplicaHandle[] {
    return [...this.replicas.values()].flat();
  }

  addressesOf(backend: string): string[] {
    return this.replicas.get(backend)!.map((h) => h.address);
  }

  /** The base URL the client (inside the client pod) calls for a backend: Breakwater on loopback or the VIP. */
  baseUrlFor(backend: string): string {
    if (this.options.proxyPolicy) return `http://127.0.0.1:${EGRESS_PORT}`;
    if (this.options.clientSideBalancing) return `http://${this.addressesOf(backend).join(',')}`;
    return `http://${this.services.get(backend)!.vip}`;
  }

  targetIds(backend: string, replica: TargetRef['replica']): string[] {
    const count = this.options.experiment.topology.backends.find((b) => b.name === backend)!.replicas;
    return replica === 'all' ? Array.from({ length: count }, (_, i) => `${backend}/${i}`) : [`${backend}/${replica}`];
  }

  handles(backend: string, replica: TargetRef['replica']): PodReplicaHandle[] {
    const all = this.replicas.get(backend)!;
    return replica === 'all' ? all : [all[replica]!];
  }

  /** Stops the endpoint controllers, Breakwater, relays and replicas, then removes the network; safe half-started. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.endpoints.values()].map((e) => e.stop()));
    if (this.breakwater) await this.options.registry.stop(this.breakwater.process);
    await Promise.allSettled(this.allReplicas().map(async (h) => {
      await h.relay?.close();
      await h.replica.stop();
    }));
    await this.network.destroy();
  }
}
