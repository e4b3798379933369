/**
 * Runs one rendered pod spec (a Deployment's template or a Pod) the way the kubelet would, on podman: the containers
 * share the pod's network namespace (see pod.ts); native sidecars (initContainers with restartPolicy Always) start
 * first and gate the rest on their startup probe; a postStart exec hook holds the next container until it returns;
 * image, command, args, env (values and metadata.name/namespace), volume mounts (ConfigMap and emptyDir), memory
 * limits and the security context are taken from the spec. Probes are HTTP GETs at the pod's address, as the kubelet
 * sends them. What it does not do (restarts, CPU limits, probe-driven endpoint changes) is for a cluster to show.
 */
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, PodSpec, Probe } from '../chart/manifests.js';
import type { ConfigMapDir } from './configmap-dir.js';
import { Pod, type HttpResult } from './pod.js';
import { podmanOk } from './podman.js';
import { securityFlags, type SecurityContext } from './security-flags.js';

export type ProbeKind = 'startupProbe' | 'readinessProbe' | 'livenessProbe';
interface ProbeTiming { periodSeconds?: number; failureThreshold?: number }

export interface PodRunOptions {
  namespace: string;
  /** The podman network the pods share (the cluster's pod network). */
  network: string;
  /** /etc/hosts of the pod: the cluster DNS answers it relies on, e.g. a headless Service's pod addresses. */
  hosts?: Array<[string, string]>;
  /** ConfigMap volumes' contents, by ConfigMap name. */
  configMaps: Record<string, ConfigMapDir>;
}

export class RunningPod {
  private readonly scratch: string[] = [];

  constructor(readonly name: string, readonly spec: PodSpec, readonly pod: Pod) {}

  ip(): string {
    return this.pod.ip();
  }

  /** podman name of a container of the pod. */
  container(name: string): string {
    return `${this.name}-${name}`;
  }

  /** One HTTP probe of a container as rendered: GET http://POD_IP:PORT/PATH, the port resolved by name. */
  async probe(containerName: string, kind: ProbeKind): Promise<HttpResult> {
    const [result] = await this.pod.get(this.probeUrl(containerName, kind));
    return result!;
  }

  /** Probes until it succeeds or its failureThreshold x periodSeconds pass (what the kubelet allows it). */
  async probeUntilSuccess(containerName: string, kind: ProbeKind): Promise<HttpResult> {
    const probe = this.probeSpec(containerName, kind) as Probe & ProbeTiming;
    const deadlineMs = (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3) * 1000;
    return this.pod.waitFor(this.probeUrl(containerName, kind), `${this.name}/${containerName} ${kind}`, deadlineMs);
  }

  private probeSpec(containerName: string, kind: ProbeKind): Probe {
    const container = allContainers(this.spec).find((c) => c.name === containerName);
    const probe = container?.[kind];
    if (!probe?.httpGet) throw new Error(`${this.name}/${containerName} has no httpGet ${kind}`);
    return probe;
  }

  private probeUrl(containerName: string, kind: ProbeKind): string {
    const { path, port } = this.probeSpec(containerName, kind).httpGet!;
    const container = allContainers(this.spec).find((c) => c.name === containerName)!;
    const number = typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
    if (number === undefined) throw new Error(`${this.name}/${containerName}: ${kind} names port ${port}, which the container does not declare`);
    return `http://${this.ip()}:${number}${path}`;
  }

  /** A directory for an emptyDir volume, writable by the pod's fsGroup as the kubelet makes it. */
  emptyDir(fsGroup: number | undefined): string {
    const dir = mkdtempSync(join(tmpdir(), 'bw-emptydir-'));
    this.scratch.push(dir);
    if (fsGroup !== undefined) chownSync(dir, 0, fsGroup);
    chmodSync(dir, fsGroup !== undefined ? 0o2775 : 0o777);
    return dir;
  }

  remove(): void {
    this.pod.remove();
    for (const dir of this.scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

function allContainers(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

/** Starts the pod's containers in the kubelet's order; the pod is removed if any step fails. */
export async function runPod(name: string, spec: PodSpec, opts: PodRunOptions): Promise<RunningPod> {
  const running = new RunningPod(name, spec, Pod.create(name, { network: opts.network, hosts: opts.hosts }));
  try {
    const volumes = volumePaths(running, spec, opts);
    for (const c of spec.initContainers ?? []) {
      running.pod.start(c.name, containerFlags(name, spec, c, volumes, opts.namespace), c.args ?? [], c.image);
      if (c.restartPolicy === 'Always') {
        if (c.startupProbe) await running.probeUntilSuccess(c.name, 'startupProbe');
      } else {
        const exit = podmanOk(['wait', running.container(c.name)], 120_000);
        if (exit !== '0') throw new Error(`init container ${c.name} exited ${exit}: ${running.pod.logs(running.container(c.name))}`);
      }
    }
    for (const c of spec.containers) {
      running.pod.start(c.name, containerFlags(name, spec, c, volumes, opts.namespace), c.args ?? [], c.image);
      const hook = c.lifecycle?.postStart?.exec?.command;
      if (hook) podmanOk(['exec', running.container(c.name), ...hook], 120_000);
    }
    return running;
  } catch (err) {
    const logs = running.pod.allLogs();
    running.remove();
    throw new Error(`pod ${name}: ${(err as Error).message}\n${logs}`);
  }
}

function volumePaths(running: RunningPod, spec: PodSpec, opts: PodRunOptions): Map<string, { path: string; readOnly: boolean }> {
  const fsGroup = (spec.securityContext as SecurityContext | undefined)?.fsGroup;
  const paths = new Map<string, { path: string; readOnly: boolean }>();
  for (const volume of spec.volumes ?? []) {
    if (volume.configMap) {
      const dir = opts.configMaps[volume.configMap.name];
      if (!dir) throw new Error(`volume ${volume.name}: no contents given for ConfigMap ${volume.configMap.name}`);
      paths.set(volume.name, { path: dir.path, readOnly: true }); // the kubelet mounts ConfigMaps read-only
    } else if (volume.emptyDir) {
      paths.set(volume.name, { path: running.emptyDir(fsGroup), readOnly: false });
    } else {
      throw new Error(`volume ${volume.name}: only configMap and emptyDir volumes are supported`);
    }
  }
  return paths;
}

function containerFlags(podName: string, spec: PodSpec, c: Container, volumes: Map<string, { path: string; readOnly: boolean }>, namespace: string): string[] {
  const flags = ['--pull', 'never', ...securityFlags(spec.securityContext as SecurityContext | undefined, c.securityContext as SecurityContext | undefined)];
  const fields: Record<string, string> = { 'metadata.name': podName, 'metadata.namespace': namespace };
  for (const env of c.env ?? []) {
    const value = env.value ?? (env.valueFrom?.fieldRef ? fields[env.valueFrom.fieldRef.fieldPath] : undefined);
    if (value === undefined) throw new Error(`${c.name}: env ${env.name} has a source this runner does not support`);
    flags.push('--env', `${env.name}=${value}`);
  }
  for (const mount of c.volumeMounts ?? []) {
    const volume = volumes.get(mount.name);
    if (!volume) throw new Error(`${c.name}: mount of an undeclared volume ${mount.name}`);
    flags.push('--volume', `${volume.path}:${mount.mountPath}:${volume.readOnly || mount.readOnly ? 'ro' : 'rw'}`);
  }
  const memory = c.resources?.limits?.memory;
  if (memory) flags.push('--memory', memory.replace(/^(\d+)Mi$/, '$1m').replace(/^(\d+)Gi$/, '$1g'));
  if (c.command) flags.push('--entrypoint', JSON.stringify(c.command));
  return flags;
}
