// What an arm runs against: the local topology (processes on this machine) or a Kubernetes cluster. The arm runner
// drives the load and the action timeline the same way for both.
import type { LoadStream, TimelineAction } from '../experiment/experiment.js';
import type { LoadDriver } from '../runner/load-driver.js';
import type { SamplerTargets } from '../runner/sampler.js';

export interface ArmEnvironment {
  start(): Promise<void>;
  /** The URL the arm's client calls for one load stream. */
  urlFor(stream: LoadStream): string;
  /** What to sample while the load runs (undefined: nothing reachable to sample). */
  samplerTargets(): SamplerTargets | undefined;
  /** Applies one timeline action; resolves with a detail for the event log. */
  apply(action: TimelineAction): Promise<string | undefined>;
  /** Undoes every fault still active; returns what was undone. */
  rollbackAll(): Promise<string[]>;
  stop(): Promise<void>;
  /** Where the client runs; undefined: in this process. */
  readonly load?: LoadDriver;
}

export type EventSink = (action: string, target?: string, detail?: string) => void;
