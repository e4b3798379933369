// Every name a mini-cluster makes outside its own namespaces starts with bw-<id>, where the id carries the creating
// process's PID: concurrent runs never collide, and a leftover of a crashed run is recognised (its owner is gone)
// without touching anything a live run owns.
import { randomBytes } from 'node:crypto';

const ID_PATTERN = /^bw-([0-9a-z]{1,7})-([0-9a-z]{3})(?:-|$)/;

export interface ClusterNames {
  id: string;
  /** The namespace holding the bridge every pod is plugged into (the "node network"). */
  networkNs: string;
  /** The veth end left in the host's namespace: the runner reaches pods through it (probes, sampling, faults). */
  hostLink: string;
  podNs(pod: string): string;
}

export function newClusterNames(): ClusterNames {
  const id = `${process.pid.toString(36)}-${randomBytes(2).readUInt16BE(0).toString(36).padStart(3, '0').slice(-3)}`;
  return namesFor(id);
}

function namesFor(id: string): ClusterNames {
  return { id, networkNs: `bw-${id}-net`, hostLink: `bw-${id}`, podNs: (pod) => `bw-${id}-${pod}` };
}

/** The cluster id a namespace or link name belongs to, when it is one of ours. */
export function clusterIdOf(name: string): { id: string; ownerPid: number } | undefined {
  const match = ID_PATTERN.exec(name);
  if (!match) return undefined;
  return { id: `${match[1]}-${match[2]}`, ownerPid: parseInt(match[1]!, 36) };
}
