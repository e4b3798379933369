// The local target: a fresh LocalTopology per arm, faults applied by the FaultInjector.
import { FaultInjector } from '../fault-injector.js';
import { armTopologyOptions, TopologyEnvironment, type EnvironmentOptions } from '../topology-environment.js';
import { LocalTopology } from './local-topology.js';

export class LocalEnvironment extends TopologyEnvironment<LocalTopology> {
  constructor(options: EnvironmentOptions) {
    const topology = new LocalTopology(armTopologyOptions(options));
    super(topology, new FaultInjector(topology));
  }
}
