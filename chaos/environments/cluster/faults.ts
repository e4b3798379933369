// The mini-cluster's faults. Network faults are iptables rules in the pods' namespaces (node failure, partition,
// packet loss); a deleted pod also leaves its Service at once. Everything the local runner does (crash/kill, freeze,
// latency, errors, blackhole relays) goes to the shared FaultInjector, whose rollback list these faults join.
import type { TimelineAction } from '../../experiment/experiment.js';
import { FaultInjector } from '../fault-injector.js';
import { addFault, nodeFailure, packetLoss, partition, removeFault, type FirewallFault } from './firewall.js';
import type { ClusterTopology, PodReplicaHandle } from './topology.js';

export class ClusterFaults {
  private readonly injector: FaultInjector;

  constructor(private readonly topology: ClusterTopology) {
    this.injector = new FaultInjector(topology);
  }

  async apply(action: TimelineAction): Promise<string | undefined> {
    if (action.action === 'restore' || !action.target) return this.injector.apply(action);
    const { backend, replica } = action.target;
    const handles = this.topology.handles(backend, replica);
    const endpoints = this.topology.endpoints.get(backend);
    switch (action.action) {
      case 'delete':
        for (const h of handles) endpoints?.podDeleted(h.replica.id);
        return this.injector.apply(action);
      case 'node-failure':
        await this.firewall(handles, 'node back', (h) => nodeFailure(h.pod.netns), (h) => endpoints?.nodeRecovered(h.replica.id));
        for (const h of handles) endpoints?.nodeFailed(h.replica.id);
        return `pod address drops every packet; endpoint removed after ${this.topology.nodeFailureDelayMs} ms`;
      case 'partition':
        await this.firewall(handles, 'heal partition', (h) => partition(this.topology.clientPod.netns, h.address));
        return 'client pod cannot reach it (packets dropped both ways)';
      case 'packet-loss':
        await this.firewall(handles, 'stop packet loss', (h) => packetLoss(h.pod.netns, action.rate!));
        return `${Math.round(action.rate! * 100)}% of packets dropped each way`;
      default:
        return this.injector.apply(action);
    }
  }

  /** Adds one firewall fault per target and registers its removal (plus `after`) as the rollback. */
  private async firewall(
    handles: PodReplicaHandle[],
    undoLabel: string,
    fault: (h: PodReplicaHandle) => FirewallFault,
    after: (h: PodReplicaHandle) => void = () => {},
  ): Promise<void> {
    for (const h of handles) {
      const made = fault(h);
      await addFault(made);
      this.injector.addRollback(`${undoLabel} ${h.replica.id}`, async () => {
        await removeFault(made);
        after(h);
      });
    }
  }

  rollbackAll(): Promise<string[]> {
    return this.injector.rollbackAll();
  }
}
