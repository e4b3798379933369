/**
 * Every tunnel of the process, and the bound on them: an upstream has at most `pool.maxConnections` tunnels open or
 * being opened, since each holds a connection of its own outside the pool. The slot is taken before the handshake
 * goes upstream, so a full upstream is refused without being contacted, and freed once, when the handshake fails or the
 * tunnel has ended. Kept by the runtime across reloads: a tunnel outlives the policy generation that opened it, and a
 * drain closes every tunnel whichever listener holds it.
 */
import type { Metrics } from '../telemetry/metrics.js';
import { Tunnel, type TunnelOptions } from './tunnel.js';
import type { Duplex } from 'node:stream';

export interface TunnelSlot {
  /** Frees the slot; later calls do nothing. */
  release(): void;
}

export class Tunnels {
  /** Slots taken, by upstream name. */
  private readonly taken = new Map<string, number>();
  private slots = 0;
  private readonly open = new Set<Tunnel>();
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly metrics: Metrics) {}

  /** A slot for one more tunnel to `upstream`; undefined when `limit` are taken already. */
  reserve(upstream: string, limit: number): TunnelSlot | undefined {
    const taken = this.taken.get(upstream) ?? 0;
    if (taken >= limit) return undefined;
    this.taken.set(upstream, taken + 1);
    this.slots++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.taken.set(upstream, this.taken.get(upstream)! - 1);
        if (--this.slots === 0) this.wakeIdle();
      },
    };
  }

  /** Relays `client` and `upstream` under `slot`, counted for `route` until the tunnel ends. */
  start(route: string, slot: TunnelSlot, client: Duplex, upstream: Duplex, clientHead: Buffer, options: Omit<TunnelOptions, 'ended'>): void {
    const active = this.metrics.tunnelsActive.labels({ route });
    active.inc();
    const tunnel = new Tunnel(client, upstream, clientHead, {
      ...options,
      ended: (how) => {
        this.open.delete(tunnel);
        active.dec();
        this.metrics.tunnelsClosed.inc({ route, result: how });
        slot.release();
      },
    });
    this.open.add(tunnel);
  }

  /** Resolves when no tunnel is open or being opened. */
  idle(): Promise<void> {
    if (this.slots === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drain: every tunnel still open is closed (see Tunnel.close). */
  closeAll(): void {
    for (const tunnel of this.open) tunnel.close('drain');
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
