/** Typed views of rendered manifests: the parts of pod specs the chart tests look at. */
import type { Manifest } from './helm.js';

export interface Probe {
  httpGet?: { path: string; port: string | number };
  grpc?: { port: number; service?: string };
  tcpSocket?: { port: string | number };
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  restartPolicy?: string;
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  ports?: Array<{ name: string; containerPort: number }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  lifecycle?: { postStart?: { exec?: { command: string[] } }; preStop?: unknown };
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string; readOnly?: boolean }>;
}
export interface PodSpec {
  initContainers?: Container[];
  containers: Container[];
  volumes?: Array<{ name: string; configMap?: { name: string }; emptyDir?: object }>;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  terminationGracePeriodSeconds?: number;
}
export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec;
}

export function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in: ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  return found;
}

/** The pod template of a Deployment, or a bare Pod as a template. */
export function podTemplate(manifest: Manifest): PodTemplate {
  if (manifest.kind === 'Pod') return { metadata: manifest.metadata as PodTemplate['metadata'], spec: manifest.spec as PodSpec };
  return (manifest.spec as { template: PodTemplate }).template;
}

export function workloads(manifests: Manifest[]): Manifest[] {
  return manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'Pod');
}

export function allContainers(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

export function container(spec: PodSpec, name: string): Container {
  const found = allContainers(spec).find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name}; have: ${allContainers(spec).map((c) => c.name).join(', ')}`);
  return found;
}

export function envValue(c: Container, name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.value;
}
