// The kubernetes target: the cluster is the topology (the Helm chart's demo backends, with Breakwater as a sidecar
// in the client pods), so an arm only loads --client-url and kills pods through the Kubernetes API. Readiness of the
// replacement pods marks the heal. Only `kill` can be expressed this way; other actions are refused up front.
import type { ArmEnvironment, EventSink } from '../arm-environment.js';
import type { Experiment, TimelineAction } from '../../experiment/experiment.js';
import { UsageError } from '../../experiment/overrides.js';
import { KubernetesTarget } from './kubernetes-api.js';

export interface KubernetesOptions {
  namespace: string;
  selector: string;
  clientUrl: string;
  /** How long replacement pods may take to become ready. */
  readyTimeoutMs?: number;
}

export function checkKubernetesTimeline(experiment: Experiment): void {
  const unsupported = experiment.timeline.find((a) => a.action !== 'kill');
  if (unsupported) {
    throw new UsageError(`${experiment.name}: action "${unsupported.action}" is not supported with --target kubernetes (only kill)`);
  }
}

export class KubernetesEnvironment implements ArmEnvironment {
  private readonly target: KubernetesTarget;
  private podCount = 0;
  private readonly waits = new Set<Promise<void>>();

  constructor(
    private readonly options: KubernetesOptions,
    private readonly onEvent: EventSink,
  ) {
    this.target = new KubernetesTarget({ namespace: options.namespace, selector: options.selector });
  }

  async start(): Promise<void> {
    this.podCount = (await this.target.listPods()).length;
    if (this.podCount === 0) throw new Error(`no pods match ${this.options.selector} in namespace ${this.options.namespace}`);
    await this.target.waitReady(this.podCount, this.options.readyTimeoutMs ?? 120_000);
  }

  urlFor(): string {
    return this.options.clientUrl;
  }

  samplerTargets(): undefined {
    return undefined;
  }

  async apply(action: TimelineAction): Promise<string> {
    const killed = await this.target.kill(action.target!.replica === 'all' ? 'all' : 'one');
    const wait = this.target.waitReady(this.podCount, this.options.readyTimeoutMs ?? 120_000).then(
      () => this.onEvent('restarted', killed.join(','), 'replacement pods ready'),
      (error: Error) => this.onEvent('restart-failed', killed.join(','), error.message),
    );
    this.waits.add(wait);
    return `deleted ${killed.join(', ')}`;
  }

  async rollbackAll(): Promise<string[]> {
    return []; // the Deployment replaces killed pods by itself
  }

  async stop(): Promise<void> {
    await Promise.all(this.waits);
  }
}
