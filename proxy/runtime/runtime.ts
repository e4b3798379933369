/**
 * The running proxy: the current policy generation, its listeners and upstreams, reloads and drain.
 *
 * A reload validates first, then builds the next generation beside the current one (unchanged upstreams keep their
 * pools, unchanged routes their breakers), binds any new listener address, and only then swaps. Requests already in
 * flight finish under the generation they started with. Anything that fails before the swap changes nothing.
 */
import type { Logger } from 'pino';
import { checkPolicyFile } from '../config/policy-check.js';
import { PolicyError } from '../config/policy-error.js';
import type { ListenerPolicy, Policy } from '../config/policy.js';
import { buildRoute, type CompiledRoute } from '../routing/route-stack.js';
import { Router } from '../routing/router.js';
import { DataPlaneListener } from '../server/listener.js';
import type { AccessLog } from '../telemetry/access-log.js';
import type { Loggers } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { Upstream } from '../upstream/upstream.js';
import { ReplayMemory } from '../server/replay-memory.js';
import { Tunnels } from '../server/tunnels.js';
import { clock } from '../core/clock.js';
import { GenerationUsers } from '../core/generation-users.js';

export interface Generation {
  readonly id: number;
  /** Its requests in flight: its resources are retired only when they have finished. */
  readonly users: GenerationUsers;
  readonly policy: Policy;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly routers: ReadonlyMap<string, Router<CompiledRoute>>;
  readonly routes: readonly CompiledRoute[];
}

const DRAINING = 'Breakwater is draining; reload refused';
/** Beyond a generation's longest route timeout, before its resources close under requests that still run. */
const RETIRE_GRACE_MS = 1000;

export type ReloadResult =
  | { ok: true; generation: number; changed: boolean }
  /** `draining`: refused because the proxy is going away, not because the policy is bad. */
  | { ok: false; generation: number; problems: string[]; draining?: true };

export class Runtime {
  private current!: Generation;
  private readonly listeners = new Map<string, DataPlaneListener>();
  private draining = false;
  private reloading: Promise<ReloadResult> | undefined;
  /** Old generations retire in order, so a resource two of them share is never closed under the older one. */
  private retiring: Promise<void> = Promise.resolve();
  private readonly replayMemory = new ReplayMemory(0);
  /** Outlive reloads: a tunnel is cut only by its own ends, its idle timeout or a drain. */
  private readonly tunnels: Tunnels;

  private readonly log: Logger;
  private readonly accessLog: AccessLog;

  private constructor(
    readonly policyFile: string,
    private readonly metrics: Metrics,
    loggers: Pick<Loggers, 'log' | 'access'>,
  ) {
    this.log = loggers.log;
    this.accessLog = loggers.access;
    metrics.replayMemory = this.replayMemory;
    this.tunnels = new Tunnels(metrics);
  }

  /** Loads the policy, starts upstreams and binds every listener; throws PolicyError on a bad file. */
  static async start(policyFile: string, metrics: Metrics, loggers: Pick<Loggers, 'log' | 'access'>, policy?: Policy): Promise<Runtime> {
    const runtime = new Runtime(policyFile, metrics, loggers);
    const loaded = policy ?? (await checkPolicyFile(policyFile));
    runtime.current = await runtime.build(loaded, 1, undefined);
    try {
      for (const listener of loaded.listeners) await runtime.bind(listener);
    } catch (err) {
      await runtime.shutdownNow();
      throw err;
    }
    runtime.publish(runtime.current);
    return runtime;
  }

  get generation(): Generation {
    return this.current;
  }

  /** Ready while every listener is bound, every upstream has endpoints (DNS answered), and no drain has begun. */
  get ready(): boolean {
    return (
      !this.draining &&
      [...this.listeners.values()].every((l) => l.listening) &&
      [...this.current.upstreams.values()].every((u) => u.ready)
    );
  }

  listenerAddresses(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, l] of this.listeners) if (l.bound) out[name] = l.bound;
    return out;
  }

  /** Re-reads the policy file; concurrent calls share one reload. */
  reload(trigger: string): Promise<ReloadResult> {
    this.reloading ??= this.doReload(trigger).finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  /**
   * SIGTERM: fail readiness now, keep serving `delay` (time for endpoint lists to drop this pod), stop accepting, let
   * in-flight requests finish up to `timeout`, then close the pools. SIGINT (a person at a terminal) skips the delay.
   */
  async drain(skipDelay = false): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const { timeoutMs } = this.current.policy.drain;
    const delayMs = skipDelay ? 0 : this.current.policy.drain.delayMs;
    const listeners = [...this.listeners.values()];
    for (const l of listeners) l.startDraining();
    this.log.info({ delayMs, timeoutMs }, 'draining: readiness now fails');
    if (delayMs > 0) await clock.sleep(delayMs);
    for (const l of listeners) l.stopAccepting();
    const inflight = listeners.reduce((n, l) => n + l.inflight, 0);
    this.log.info({ inflight }, 'draining: stopped accepting, waiting for requests in flight');
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.all([...listeners.map((l) => l.idle()), this.tunnels.idle()]).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer); // a pending drain timeout must not hold the process open after the drain
    if (!finished) this.log.warn({ timeoutMs }, 'drain timeout: closing the requests and tunnels still in flight');
    this.tunnels.closeAll();
    await this.shutdownNow();
    this.log.info('drained');
  }

  private async shutdownNow(): Promise<void> {
    for (const l of this.listeners.values()) {
      l.stopAccepting();
      l.closeAllConnections();
    }
    for (const route of this.current?.routes ?? []) for (const { state } of route.shared.values()) state.dispose?.();
    await Promise.all([...(this.current?.upstreams.values() ?? [])].map((u) => u.destroy()));
  }

  private async doReload(trigger: string): Promise<ReloadResult> {
    const previous = this.current;
    if (this.draining) return this.refusedWhileDraining(trigger);
    let policy: Policy;
    try {
      policy = await checkPolicyFile(this.policyFile);
    } catch (err) {
      return this.reloadFailed(trigger, err instanceof PolicyError ? err.problems : [(err as Error).message]);
    }
    // The check takes a while off the event loop; a drain that began meanwhile has the last word.
    if (this.draining) return this.refusedWhileDraining(trigger);
    if (policy.admin.address.text !== previous.policy.admin.address.text) {
      return this.reloadFailed(trigger, [
        `admin.address: changed from ${previous.policy.admin.address.text} to ${policy.admin.address.text}; the admin server moves only on restart`,
      ]);
    }

    let next: Generation;
    try {
      next = await this.build(policy, previous.id + 1, previous);
    } catch (err) {
      return this.reloadFailed(trigger, [(err as Error).message]);
    }
    if (this.draining) {
      await this.disposeUnshared(next, previous);
      return this.refusedWhileDraining(trigger);
    }
    // Bind new or moved listeners before the swap; if one cannot bind, undo and change nothing.
    const moved = policy.listeners.filter((l) => this.listeners.get(l.name)?.address.text !== l.address.text);
    const bound: DataPlaneListener[] = [];
    const replaced = new Map<string, DataPlaneListener>();
    try {
      for (const l of moved) {
        const listener = this.newListener(l);
        await listener.listen();
        bound.push(listener);
      }
    } catch (err) {
      for (const l of bound) l.stopAccepting();
      await this.disposeUnshared(next, previous);
      return this.reloadFailed(trigger, [(err as Error).message]);
    }
    // Binding awaits too; a listener the drain did not see would accept on and have its requests cut at exit.
    if (this.draining) {
      for (const l of bound) l.stopAccepting();
      await this.disposeUnshared(next, previous);
      return this.refusedWhileDraining(trigger);
    }
    for (const listener of bound) {
      const old = this.listeners.get(listener.name);
      if (old) replaced.set(listener.name, old);
      this.listeners.set(listener.name, listener);
    }
    const kept = new Set(policy.listeners.map((l) => l.name));
    for (const [name, old] of this.listeners) {
      if (!kept.has(name)) {
        replaced.set(name, old);
        this.listeners.delete(name);
      }
    }

    this.current = next; // the swap: requests from here on use the new generation
    // A kept listener takes its new settings in place; rebinding would refuse connections meanwhile.
    for (const l of policy.listeners) this.listeners.get(l.name)!.applySettings(l);
    this.publish(next);
    this.metrics.configReloads.inc({ result: 'success' });
    this.log.info({ trigger, generation: next.id, listeners: this.listenerAddresses() }, 'policy reloaded');

    for (const old of replaced.values()) {
      old.stopAccepting();
      void old.idle().then(() => old.closeAllConnections());
    }
    this.retire(previous, next);
    return { ok: true, generation: next.id, changed: true };
  }

  /**
   * Disposes what `old` holds and `next` does not share once the last request of `old` (and of every older
   * generation) has finished: requests keep their generation's pools, breakers and bulkheads to the end. The wait is
   * bounded by the longest route timeout of `old`, which bounds every request of it.
   */
  private retire(old: Generation, next: Generation): void {
    const boundMs = Math.max(0, ...old.routes.map((r) => r.policy.timeoutMs)) + RETIRE_GRACE_MS;
    this.retiring = this.retiring
      .then(() => old.users.idle(boundMs))
      .then((idle) => {
        if (!idle) this.log.warn({ generation: old.id, requests: old.users.count }, 'retiring a generation with requests still in flight past its longest route timeout');
        return this.disposeUnshared(old, next);
      })
      .catch((err: Error) => this.log.error({ err, generation: old.id }, 'retiring an old policy generation failed'));
  }

  /** Exports the gauges of the generation now serving; until then a new generation's upstreams and routes show nothing. */
  private publish(generation: Generation): void {
    this.replayMemory.limitBytes = generation.policy.memory.replayBuffersBytes;
    for (const upstream of generation.upstreams.values()) this.metrics.exportUpstream(upstream);
    for (const route of generation.routes) route.activate();
    this.metrics.configGeneration.set(generation.id);
  }

  /** Not a failed reload: the policy may be fine, the proxy is going away (a file changed during a rollout, say). */
  private refusedWhileDraining(trigger: string): ReloadResult {
    this.log.info({ trigger, generation: this.current.id }, 'policy reload refused: draining');
    return { ok: false, generation: this.current.id, problems: [DRAINING], draining: true };
  }

  private reloadFailed(trigger: string, problems: string[]): ReloadResult {
    this.metrics.configReloads.inc({ result: 'failure' });
    this.log.error({ trigger, problems, generation: this.current.id }, 'policy reload rejected; the running policy is unchanged');
    return { ok: false, generation: this.current.id, problems };
  }

  /**
   * Closes what `gone` holds and `stays` does not share: upstream pools after their requests finish, and the routes'
   * shared state (breakers, bulkheads), whose gauges a dashboard would otherwise show forever.
   */
  private async disposeUnshared(gone: Generation, stays: Generation): Promise<void> {
    const kept = new Set(stays.routes.flatMap((r) => [...r.shared.values()].map((c) => c.state)));
    for (const route of gone.routes) {
      for (const { state } of route.shared.values()) if (!kept.has(state)) state.dispose?.();
    }
    const keptUpstreams = new Set(stays.upstreams.values());
    await Promise.all([...gone.upstreams.values()].filter((u) => !keptUpstreams.has(u)).map((u) => u.close()));
  }

  private async build(policy: Policy, id: number, previous: Generation | undefined): Promise<Generation> {
    const upstreams = new Map<string, Upstream>();
    const created: Upstream[] = [];
    try {
      for (const up of policy.upstreams) {
        const same = previous?.upstreams.get(up.name);
        if (same && same.policy.fingerprint === up.fingerprint) {
          upstreams.set(up.name, same);
          continue;
        }
        const upstream = new Upstream(up, this.metrics, this.log);
        created.push(upstream);
        await upstream.start({ requireEndpoints: previous !== undefined }).catch((err: Error) => {
          throw new Error(`upstream "${up.name}": ${err.message}`);
        });
        upstreams.set(up.name, upstream);
      }
    } catch (err) {
      await Promise.all(created.map((u) => u.destroy()));
      throw err;
    }
    const users = new GenerationUsers();
    const oldRoutes = new Map(previous?.routes.map((r) => [`${r.policy.listener}/${r.policy.name}`, r]));
    const routes: CompiledRoute[] = [];
    const routers = new Map<string, Router<CompiledRoute>>();
    const telemetry = { metrics: this.metrics, log: this.log, accessLog: this.accessLog };
    for (const listener of policy.listeners) {
      const compiled = listener.routes.map((route) => {
        const old = oldRoutes.get(`${listener.name}/${route.name}`);
        return buildRoute(route, upstreams.get(route.upstream)!, telemetry, users, old?.shared);
      });
      routes.push(...compiled);
      routers.set(listener.name, new Router(compiled));
    }
    return { id, users, policy, upstreams, routers, routes };
  }

  private newListener(settings: ListenerPolicy): DataPlaneListener {
    const name = settings.name;
    return new DataPlaneListener(
      settings,
      () => this.current.routers.get(name),
      this.metrics,
      this.log,
      this.accessLog,
      this.replayMemory,
      this.tunnels,
    );
  }

  private async bind(settings: ListenerPolicy): Promise<void> {
    const listener = this.newListener(settings);
    await listener.listen();
    this.listeners.set(settings.name, listener);
  }
}
