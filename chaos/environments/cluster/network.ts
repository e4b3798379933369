// The mini-cluster's network: a namespace with a bridge (the node network), one namespace per pod plugged into it by
// a veth pair, and one veth end in the host's namespace so the runner reaches the pods (as a kubelet does).
// Addresses come from 198.18.0.0/15 (reserved for benchmarking, never routed on the internet): pods get
// 198.18.<n>.0/24 and Service VIPs 198.19.<n>.0/24, with <n> claimed per cluster so concurrent clusters never overlap.
// Every pod-side rule lives inside a pod's own namespace, so deleting the namespaces removes all of it.
import { dropClaim, dropClaimNow, writeClaim } from './claims.js';
import { run, runIn, runNow } from './commands.js';
import type { ClusterNames } from './names.js';

export interface Pod {
  name: string;
  netns: string;
  ip: string;
}

const FIRST_POD_HOST = 10;
const HOST_SIDE = 254;

export class ClusterNetwork {
  private subnet?: number;
  private readonly pods: Pod[] = [];
  private readonly namespaces: string[] = [];
  private linkMade = false;

  constructor(readonly names: ClusterNames) {}

  /** The host's address on the pod network (where probes and samples come from). */
  get hostAddress(): string {
    return `198.18.${this.subnetIndex}.${HOST_SIDE}`;
  }

  get podCidr(): string {
    return `198.18.${this.subnetIndex}.0/24`;
  }

  get vipCidr(): string {
    return `198.19.${this.subnetIndex}.0/24`;
  }

  vip(index: number): string {
    return `198.19.${this.subnetIndex}.${index + 1}`;
  }

  private get subnetIndex(): number {
    if (this.subnet === undefined) throw new Error('the cluster network is not up');
    return this.subnet;
  }

  async create(): Promise<void> {
    const { networkNs, hostLink } = this.names;
    await writeClaim(this.names.id); // first: whatever follows can be found and removed if this process dies
    await this.addNamespace(networkNs);
    await run('ip', ['-n', networkNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await run('ip', ['-n', networkNs, 'link', 'set', 'br0', 'up']);
    await run('ip', ['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', 'host', 'netns', networkNs]);
    this.linkMade = true;
    await run('ip', ['-n', networkNs, 'link', 'set', 'host', 'master', 'br0', 'up']);
    await run('ip', ['link', 'set', hostLink, 'up']);
    this.subnet = await this.claimSubnet();
    await run('ip', ['addr', 'add', `${this.hostAddress}/32`, 'dev', hostLink]);
    await run('ip', ['route', 'change', this.podCidr, 'dev', hostLink, 'src', this.hostAddress]);
  }

  /**
   * Routes a free 198.18.<n>.0/24 to the host link. Adding a route that exists fails, so the first cluster to add it
   * owns it: no two clusters (nor anything else on the host) ever share a range.
   */
  private async claimSubnet(): Promise<number> {
    const start = Math.floor(Math.random() * 256);
    for (let i = 0; i < 256; i++) {
      const n = (start + i) % 256;
      const taken = await run('ip', ['route', 'add', `198.18.${n}.0/24`, 'dev', this.names.hostLink]).then(() => false, () => true);
      if (!taken) return n;
    }
    throw new Error('no free /24 in 198.18.0.0/16 for the cluster network');
  }

  /** A pod: its own namespace with loopback up and eth0 on the bridge. */
  async addPod(name: string): Promise<Pod> {
    const netns = this.names.podNs(name);
    const port = `p${this.pods.length}`;
    const ip = `198.18.${this.subnetIndex}.${FIRST_POD_HOST + this.pods.length}`;
    if (FIRST_POD_HOST + this.pods.length >= HOST_SIDE) throw new Error('too many pods for one cluster network');
    const pod = { name, netns, ip };
    this.pods.push(pod);
    await this.addNamespace(netns);
    await run('ip', ['link', 'add', 'eth0', 'netns', netns, 'type', 'veth', 'peer', 'name', port, 'netns', this.names.networkNs]);
    await run('ip', ['-n', this.names.networkNs, 'link', 'set', port, 'master', 'br0', 'up']);
    await run('ip', ['-n', netns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
    // Fault rules (node failure, partition, packet loss) go into this chain, hooked in both directions.
    await runIn(netns, 'iptables', ['-N', 'BW-FAULTS']);
    await runIn(netns, 'iptables', ['-A', 'INPUT', '-j', 'BW-FAULTS']);
    await runIn(netns, 'iptables', ['-A', 'OUTPUT', '-j', 'BW-FAULTS']);
    return pod;
  }

  private async addNamespace(netns: string): Promise<void> {
    await run('ip', ['netns', 'add', netns]);
    this.namespaces.push(netns);
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  }

  /**
   * Removes the host link (with it the route and address) and every namespace, which takes their links and rules.
   * The processes in the pods must have ended first: a namespace with a process in it outlives its name.
   */
  async destroy(): Promise<void> {
    if (this.linkMade) await run('ip', ['link', 'del', this.names.hostLink]).catch(() => undefined);
    this.linkMade = false;
    await Promise.all(this.namespaces.splice(0).map((netns) => run('ip', ['netns', 'del', netns]).catch(() => undefined)));
    await dropClaim(this.names.id);
  }

  /** Last resort at process exit: the same removal, synchronously. */
  destroyNow(): void {
    if (this.linkMade) runNow('ip', ['link', 'del', this.names.hostLink]);
    for (const netns of this.namespaces.splice(0)) runNow('ip', ['netns', 'del', netns]);
    dropClaimNow(this.names.id);
  }
}
