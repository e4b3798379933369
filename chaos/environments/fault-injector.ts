// Applies timeline actions to the replicas of a topology (local or mini-cluster) and keeps the undo for each one.
// `restore` and the end of the arm (success, failure or interrupt alike) run the undos, so no replica stays frozen,
// slowed or partitioned.
import type { TargetRef, TimelineAction } from '../experiment/experiment.js';
import type { ReplicaHandle } from './local/local-topology.js';

export type Rollback = { label: string; undo: () => Promise<void> | void };

export interface FaultTargets {
  handles(backend: string, replica: TargetRef['replica']): ReplicaHandle[];
  /** `delete`: SIGTERM to SIGKILL. */
  readonly gracePeriodMs: number;
}

export class FaultInjector {
  private rollbacks: Rollback[] = [];

  constructor(private readonly topology: FaultTargets) {}

  /** Applies one action; returns a human-readable detail for the event log. */
  async apply(action: TimelineAction): Promise<string | undefined> {
    if (action.action === 'restore') {
      const undone = await this.rollbackAll();
      return undone.length ? `rolled back: ${undone.join(', ')}` : 'nothing to roll back';
    }
    const target = action.target!;
    const handles = this.topology.handles(target.backend, target.replica);
    switch (action.action) {
      case 'kill':
      case 'crash':
        for (const h of handles) h.replica.kill();
        return `SIGKILL; replaced after its restart delay`;
      case 'delete':
        for (const h of handles) h.replica.terminate(this.topology.gracePeriodMs);
        return `SIGTERM (grace period ${this.topology.gracePeriodMs} ms); replaced after its restart delay`;
      case 'freeze':
        for (const h of handles) {
          h.replica.freeze();
          this.addRollback(`thaw ${h.replica.id}`, () => h.replica.thaw());
        }
        return 'SIGSTOP';
      case 'thaw':
        for (const h of handles) h.replica.thaw();
        this.rollbacks = this.rollbacks.filter((r) => !handles.some((h) => r.label === `thaw ${h.replica.id}`));
        return 'SIGCONT';
      case 'latency':
        await this.setFaults(handles, { slowRate: action.rate, slowDelay: `${action.delayMs}ms` });
        return `+${action.delayMs} ms on ${Math.round(action.rate! * 100)}% of requests`;
      case 'errors':
        await this.setFaults(handles, { failureRate: action.rate, ...(action.status ? { failureStatus: action.status } : {}) });
        return `${Math.round(action.rate! * 100)}% errors${action.status ? ` (${action.status})` : ''}`;
      case 'blackhole':
        for (const h of handles) {
          h.relay!.mode = action.mode === 'drop' ? { kind: 'drop' } : { kind: 'delay', delayMs: action.delayMs! };
          this.addRollback(`reconnect ${h.replica.id}`, () => {
            h.relay!.mode = { kind: 'pass' };
          });
        }
        return action.mode === 'drop' ? 'traffic dropped' : `traffic delayed ${action.delayMs} ms`;
      default:
        throw new Error(`action "${action.action}" needs the mini-cluster (--target cluster)`);
    }
  }

  private async setFaults(handles: ReplicaHandle[], faults: Record<string, unknown>): Promise<void> {
    for (const h of handles) {
      this.addRollback(`restore faults ${h.replica.id}`, () => h.replica.restoreFaults());
      await h.replica.setFaults(faults);
    }
  }

  /** Registers an undo (once per label) for `restore` and the end of the arm; other injectors share this list. */
  addRollback(label: string, undo: Rollback['undo']): void {
    if (!this.rollbacks.some((r) => r.label === label)) this.rollbacks.push({ label, undo });
  }

  /** Runs every pending undo, newest first; one failing undo does not stop the others. Returns what was undone. */
  async rollbackAll(): Promise<string[]> {
    const pending = this.rollbacks.reverse();
    this.rollbacks = [];
    const failures: string[] = [];
    for (const rollback of pending) {
      try {
        await rollback.undo();
      } catch (error) {
        failures.push(`${rollback.label}: ${(error as Error).message}`);
      }
    }
    if (failures.length) throw new Error(`rollback failed: ${failures.join('; ')}`);
    return pending.map((r) => r.label);
  }
}
