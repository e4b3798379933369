// Every name a mini-cluster makes outside its own namespaces starts with bw-<id>, where the id is the creating
// process's PID (base 36) and a random part: concurrent runs and clusters never collide.
import { randomInt } from 'node:crypto';

export interface ClusterNames {
  id: string;
  /** The namespace holding the bridge every pod is plugged into (the "node network"). */
  networkNs: string;
  /** The veth end left in the host's namespace: the runner reaches pods through it (probes, sampling, faults). */
  hostLink: string;
  podNs(pod: string): string;
}

export function newClusterNames(): ClusterNames {
  const id = `${process.pid.toString(36)}-${randomInt(36 ** 3).toString(36).padStart(3, '0')}`;
  return { id, networkNs: `bw-${id}-net`, hostLink: `bw-${id}`, podNs: (pod) => `bw-${id}-${pod}` };
}
