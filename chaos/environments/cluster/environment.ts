// The mini-cluster target: a fresh ClusterTopology per arm, faults by ClusterFaults, the load inside the client pod.
// The network is removed on stop, and synchronously at process exit should the runner die without stopping.
import { armTopologyOptions, TopologyEnvironment, type EnvironmentOptions } from '../topology-environment.js';
import { ClientPodLoad } from './client-pod-load.js';
import { ClusterFaults } from './faults.js';
import { newClusterNames } from './names.js';
import { ClusterTopology } from './topology.js';

export class ClusterEnvironment extends TopologyEnvironment<ClusterTopology> {
  readonly load: ClientPodLoad;
  private readonly removeAtExit = () => this.topology.network.destroyNow();

  constructor(options: EnvironmentOptions) {
    const names = newClusterNames();
    const topology = new ClusterTopology({ ...armTopologyOptions(options), names });
    super(topology, new ClusterFaults(topology));
    this.load = new ClientPodLoad(options.registry, names.podNs('client'));
  }

  override async start(): Promise<void> {
    process.once('exit', this.removeAtExit);
    await this.topology.start();
    await this.load.start();
  }

  override async stop(): Promise<void> {
    try {
      await this.load.stop();
      await this.topology.stop();
    } finally {
      process.removeListener('exit', this.removeAtExit);
    }
  }
}
