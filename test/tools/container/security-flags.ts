/**
 * A Kubernetes security context as podman flags: the pod's merged with the container's, as the kubelet applies them.
 * CHART_SECURITY_FLAGS is what the chart's values give every container (uid 1000, read-only root filesystem with no
 * writable tmpfs added, no capabilities, no privilege escalation), for the tests that run the image outside the chart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { chartDir } from '../chart/helm.js';

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  fsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
}

/** podman flags for `container` over `pod`; throws where the kubelet would refuse to start the container. */
export function securityFlags(pod: SecurityContext | undefined, container: SecurityContext | undefined): string[] {
  const sc = { ...pod, ...container };
  if (sc.runAsNonRoot && !sc.runAsUser) throw new Error('runAsNonRoot needs a numeric non-zero runAsUser to verify here');
  const flags: string[] = [];
  if (sc.runAsUser !== undefined) flags.push('--user', `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`);
  if (sc.fsGroup !== undefined) flags.push('--group-add', String(sc.fsGroup));
  if (sc.readOnlyRootFilesystem) flags.push('--read-only', '--read-only-tmpfs=false');
  if (sc.allowPrivilegeEscalation === false) flags.push('--security-opt', 'no-new-privileges');
  for (const cap of sc.capabilities?.drop ?? []) flags.push('--cap-drop', cap.toLowerCase());
  for (const cap of sc.capabilities?.add ?? []) flags.push('--cap-add', cap.toLowerCase());
  return flags;
}

const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as {
  podSecurityContext: SecurityContext;
  containerSecurityContext: SecurityContext;
};
export const CHART_SECURITY_FLAGS = securityFlags(values.podSecurityContext, values.containerSecurityContext);
