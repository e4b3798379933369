// The mini-cluster target: a fresh ClusterTopology per arm, faults by ClusterFaults, the load inside the client pod.
// The network is removed on stop, and synchronously at process exit should the runner die without stopping.
import type { ArmEnvironment, EventSink } from '../arm-environment.js';
import type { ArmSpec, Experiment, LoadStream, TimelineAction } from '../../experiment/experiment.js';
import { policyForArm } from '../../experiment/experiment-file.js';
import type { ProcessRegistry } from '../../runner/processes.js';
import type { SamplerTargets } from '../../runner/sampler.js';
import { ClientPodLoad } from './client-pod-load.js';
import { ClusterFaults } from './faults.js';
import { newClusterNames } from './names.js';
import { ClusterTopology } from './topology.js';

export interface ClusterEnvironmentOptions {
  experiment: Experiment;
  arm: ArmSpec;
  seed: number;
  runDir: string;
  registry: ProcessRegistry;
  onEvent: EventSink;
}

export class ClusterEnvironment implements ArmEnvironment {
  readonly topology: ClusterTopology;
  readonly load: ClientPodLoad;
  private readonly faults: ClusterFaults;
  private readonly removeAtExit = () => this.topology.network.destroyNow();

  constructor(options: ClusterEnvironmentOptions) {
    const { experiment, arm } = options;
    const usesProxy = arm.base === 'proxy' || arm.base === 'app+proxy';
    const names = newClusterNames();
    this.topology = new ClusterTopology({
      experiment, registry: options.registry, seed: options.seed, runDir: options.runDir, armName: arm.name, names,
      proxyPolicy: usesProxy ? policyForArm(experiment, arm.name) : undefined,
      onEvent: (action, target, detail) => options.onEvent(action, target, detail),
    });
    this.faults = new ClusterFaults(this.topology);
    this.load = new ClientPodLoad(options.registry, names.podNs('client'));
  }

  async start(): Promise<void> {
    process.once('exit', this.removeAtExit);
    await this.topology.start();
    await this.load.start();
  }

  urlFor(stream: LoadStream): string {
    return `${this.topology.baseUrlFor(stream.backend)}${stream.path}`;
  }

  samplerTargets(): SamplerTargets {
    return {
      replicas: () => this.topology.allReplicas().map((h) => ({ id: h.replica.id, address: h.replica.address })),
      proxyAdminUrl: this.topology.breakwater?.adminUrl,
    };
  }

  apply(action: TimelineAction): Promise<string | undefined> {
    return this.faults.apply(action);
  }

  rollbackAll(): Promise<string[]> {
    return this.faults.rollbackAll();
  }

  async stop(): Promise<void> {
    try {
      await this.load.stop();
      await this.topology.stop();
    } finally {
      process.removeListener('exit', this.removeAtExit);
    }
  }
}
