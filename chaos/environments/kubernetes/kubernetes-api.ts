import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';

export interface KubernetesTargetOptions {
  namespace: string;
  /** Label selector, e.g. app.kubernetes.io/component=demo-backend,app.kubernetes.io/instance=breakwater-demo */
  selector: string;
  /** Path of a kubeconfig file; default: KUBECONFIG, ~/.kube/config or the in-cluster service account. */
  kubeconfig?: string;
  /** How often waitReady lists pods; default 1000 ms. */
  pollIntervalMs?: number;
}

export interface PodState {
  name: string;
  ready: boolean;
  ip?: string;
}

export interface KillOptions {
  gracePeriodSeconds?: number;
  /** Picks the victim for 'one': [0, 1) like Math.random, injectable for seeded runs. */
  rng?: () => number;
}

/**
 * The chaos runner's `--target kubernetes`: the pods the selector matches are the replicas, and killing one means
 * deleting it through the API so its ReplicaSet replaces it, as `kubectl delete pod` or Chaos Mesh's pod-kill would.
 */
export class KubernetesTarget {
  private readonly api: CoreV1Api;

  constructor(
    private readonly opts: KubernetesTargetOptions,
    kc?: KubeConfig,
  ) {
    this.api = (kc ?? loadKubeConfig(opts.kubeconfig)).makeApiClient(CoreV1Api);
  }

  /** Pods matching the selector that are not already terminating (a deleted pod may still report Ready for a while). */
  async listPods(): Promise<PodState[]> {
    let pods: V1Pod[];
    try {
      pods = (await this.api.listNamespacedPod({ namespace: this.opts.namespace, labelSelector: this.opts.selector })).items;
    } catch (err) {
      throw new Error(`listing pods ${this.where()} failed: ${describe(err)}`);
    }
    return pods.filter((pod) => !pod.metadata?.deletionTimestamp).map(toPodState);
  }

  /** Deletes one random pod or all of them; resolves with the deleted pod names. */
  async kill(which: 'one' | 'all', opts: KillOptions = {}): Promise<string[]> {
    const pods = await this.listPods();
    if (pods.length === 0) throw new Error(`no pods to kill: none ${this.where()}`);
    const rng = opts.rng ?? Math.random;
    const victims = which === 'all' ? pods : [pods[Math.min(pods.length - 1, Math.floor(rng() * pods.length))]!];
    await Promise.all(victims.map((pod) => this.deletePod(pod.name, opts.gracePeriodSeconds)));
    return victims.map((pod) => pod.name);
  }

  /** Resolves once at least `count` matching pods are ready; rejects after `timeoutMs` saying what it saw. */
  async waitReady(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const interval = this.opts.pollIntervalMs ?? 1000;
    let lastSeen = 'nothing listed yet';
    for (;;) {
      try {
        const pods = await this.listPods();
        if (pods.filter((pod) => pod.ready).length >= count) return;
        lastSeen = pods.map((pod) => `${pod.name}${pod.ready ? ' (ready)' : ' (not ready)'}`).join(', ') || 'no pods';
      } catch (err) {
        lastSeen = (err as Error).message; // the API may blip during chaos: keep waiting until the deadline
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`waited ${timeoutMs} ms for ${count} ready pods ${this.where()}; last saw: ${lastSeen}`);
      await sleep(Math.min(interval, remaining));
    }
  }

  private async deletePod(name: string, gracePeriodSeconds: number | undefined): Promise<void> {
    try {
      await this.api.deleteNamespacedPod({ name, namespace: this.opts.namespace, gracePeriodSeconds });
    } catch (err) {
      throw new Error(`deleting pod ${name} in namespace ${this.opts.namespace} failed: ${describe(err)}`);
    }
  }

  private where(): string {
    return `matching "${this.opts.selector}" in namespace ${this.opts.namespace}`;
  }
}

function loadKubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}

function toPodState(pod: V1Pod): PodState {
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const state: PodState = { name: pod.metadata?.name ?? '', ready };
  if (pod.status?.podIP) state.ip = pod.status.podIP;
  return state;
}

/** client-node's ApiException carries the HTTP code and the Status body; plain errors just a message. */
function describe(err: unknown): string {
  const { code, body, message } = err as { code?: number; body?: unknown; message?: string };
  if (typeof code === 'number') {
    const reason = typeof body === 'string' ? safeStatusMessage(body) : undefined;
    return `HTTP ${code}${reason ? `: ${reason}` : ''}`;
  }
  return message ?? String(err);
}

function safeStatusMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}
