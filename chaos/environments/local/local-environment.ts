// The local target: a fresh LocalTopology per arm, faults applied by the FaultInjector.
import type { ArmEnvironment, EventSink } from '../arm-environment.js';
import type { ArmSpec, Experiment, LoadStream, TimelineAction } from '../../experiment/experiment.js';
import { policyForArm } from '../../experiment/experiment-file.js';
import { FaultInjector } from '../fault-injector.js';
import { LocalTopology } from './local-topology.js';
import type { ProcessRegistry } from '../../runner/processes.js';
import type { SamplerTargets } from '../../runner/sampler.js';

export interface LocalEnvironmentOptions {
  experiment: Experiment;
  arm: ArmSpec;
  seed: number;
  runDir: string;
  registry: ProcessRegistry;
  onEvent: EventSink;
}

export class LocalEnvironment implements ArmEnvironment {
  readonly topology: LocalTopology;
  private readonly injector: FaultInjector;

  constructor(options: LocalEnvironmentOptions) {
    const { experiment, arm } = options;
    const usesProxy = arm.base === 'proxy' || arm.base === 'app+proxy';
    this.topology = new LocalTopology({
      experiment, registry: options.registry, seed: options.seed, runDir: options.runDir, armName: arm.name,
      proxyPolicy: usesProxy ? policyForArm(experiment, arm.name) : undefined,
      onEvent: (action, target, detail) => options.onEvent(action, target, detail),
    });
    this.injector = new FaultInjector(this.topology);
  }

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
    return this.injector.apply(action);
  }

  rollbackAll(): Promise<string[]> {
    return this.injector.rollbackAll();
  }

  stop(): Promise<void> {
    return this.topology.stop();
  }
}
