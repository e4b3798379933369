// What the local and the cluster targets share: a topology of supervised replicas (and Breakwater for the proxy arms)
// started fresh per arm, and the faults applied to it. Only how the topology and the faults are made differs.
import type { ArmSpec, Experiment, LoadStream, TimelineAction } from '../experiment/experiment.js';
import { policyForArm } from '../experiment/experiment-file.js';
import type { ProcessRegistry } from '../runner/processes.js';
import type { SamplerTargets } from '../runner/sampler.js';
import type { ArmEnvironment, EventSink } from './arm-environment.js';
import type { ReplicaHandle, TopologyOptions } from './local/local-topology.js';

export interface EnvironmentOptions {
  experiment: Experiment;
  arm: ArmSpec;
  seed: number;
  runDir: string;
  registry: ProcessRegistry;
  onEvent: EventSink;
}

export interface ArmTopology {
  start(): Promise<void>;
  stop(): Promise<void>;
  baseUrlFor(backend: string): string;
  allReplicas(): ReplicaHandle[];
  readonly breakwater?: { readonly adminUrl: string };
}

export interface ArmFaults {
  apply(action: TimelineAction): Promise<string | undefined>;
  rollbackAll(): Promise<string[]>;
}

/** The topology settings of one arm: Breakwater's policy for the proxy arms, none for the direct ones. */
export function armTopologyOptions(options: EnvironmentOptions): TopologyOptions {
  const { experiment, arm } = options;
  const usesProxy = arm.base === 'proxy' || arm.base === 'app+proxy';
  return {
    experiment, registry: options.registry, seed: options.seed, runDir: options.runDir, armName: arm.name,
    proxyPolicy: usesProxy ? policyForArm(experiment, arm.name) : undefined,
    // A gRPC app balances over every replica itself (round_robin over a headless Service's addresses).
    clientSideBalancing: experiment.protocol === 'grpc' && arm.base === 'app',
    onEvent: (action, target, detail) => options.onEvent(action, target, detail),
  };
}

export abstract class TopologyEnvironment<T extends ArmTopology> implements ArmEnvironment {
  constructor(
    readonly topology: T,
    private readonly faults: ArmFaults,
  ) {}

  start(): Promise<void> {
    return this.topology.start();
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

  stop(): Promise<void> {
    return this.topology.stop();
  }
}
