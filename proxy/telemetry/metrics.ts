/**
 * Breakwater's metrics, in a Registry of its own. Label values come only from the policy file (listener, route,
 * upstream and endpoint names) or small fixed sets (status class, outcome, reason), so series stay bounded.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { clock } from '../core/clock.js';
import { EVENT_LOOP_LAG_GAUGES, registerEventLoopLag } from './event-loop-lag.js';
import type { Exposition } from './exposition.js';
import { HotCounter, type CounterCell } from './hot-counter.js';
import { HotGauge } from './hot-gauge.js';
import { HotHistogram } from './hot-histogram.js';
import { ScrapedGauge } from './scraped-gauge.js';
import { SharedRender } from './shared-render.js';

type BulkheadScope = 'upstream' | 'route';

/** What the bulkhead gauges read from a bulkhead at each scrape. */
export interface BulkheadOccupancy {
  readonly active: number;
  readonly queued: number;
}

/** What the gauges read, when scraped, from an upstream of the generation that serves. */
export interface ExportedUpstream {
  readonly name: string;
  readonly bulkhead: BulkheadOccupancy;
  readonly endpoints: readonly { readonly address: string; available(now: number): boolean }[];
}

export const CIRCUIT_STATES = ['closed', 'open', 'half_open'] as const;
export type CircuitState = (typeof CIRCUIT_STATES)[number];

/** Why a listener refused a connection or request before any route saw it. */
export const LISTENER_REJECT_REASONS = ['headers-timeout', 'body-timeout', 'max-connections', 'header-too-large', 'bad-request'] as const;
export type ListenerRejectReason = (typeof LISTENER_REJECT_REASONS)[number];

/**
 * How often the nodejs_eventloop_lag_* histogram samples the loop. prom-client's 10 ms default is a timer waking an
 * idle sidecar 100 times a second, a large share of its idle CPU; at 100 ms a stall of that length is still always
 * seen and shorter ones in proportion to their length, which keeps the percentiles a fair sample of the delay a
 * request meets.
 */
const EVENT_LOOP_SAMPLE_MS = 100;
/**
 * collectDefaultMetrics() cannot leave out its event-loop gauges, which count the sampling period as lag; they are
 * replaced by event-loop-lag.ts, and the timer prom-client starts for them is given a period that never comes.
 */
const UNUSED_SAMPLE_MS = 2 ** 31 - 1;

/** prom-client names these gauges *_total, which the Prometheus exposition rules reserve for counters. */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export class Metrics {
  readonly registry = new Registry();
  private readonly exposition = new SharedRender(this.registry);

  readonly requests = new HotCounter({
    name: 'breakwater_requests_total',
    help: 'Client requests answered, by route, status class and outcome; gRPC calls also by grpc_status (0-16), their status class that of its HTTP equivalent.',
    labelNames: ['listener', 'route', 'upstream', 'status_class', 'outcome', 'grpc_status'] as const,
    registers: [this.registry],
  });
  readonly requestDuration = new HotHistogram({
    name: 'breakwater_request_duration_seconds',
    help: 'Time from request received to response finished, all attempts included.',
    labelNames: ['listener', 'route', 'upstream'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly attempts = new HotCounter({
    name: 'breakwater_upstream_attempts_total',
    help: 'Attempts sent to upstream endpoints, by result (a status class, or the failure kind).',
    labelNames: ['upstream', 'route', 'result'] as const,
    registers: [this.registry],
  });
  readonly retries = new HotCounter({
    name: 'breakwater_retries_total',
    help: 'Retries made, by the condition that caused them.',
    labelNames: ['route', 'reason'] as const,
    registers: [this.registry],
  });
  readonly retriesSkipped = new Counter({
    name: 'breakwater_retries_skipped_total',
    help: 'Retries the policy asked for but Breakwater did not make, by reason.',
    labelNames: ['route', 'reason'] as const,
    registers: [this.registry],
  });
  readonly hedges = new HotCounter({
    name: 'breakwater_hedges_total',
    help: 'Hedged attempts, by result: won (answered first), lost (cancelled or beaten), budget (due, but the retry budget was spent).',
    labelNames: ['route', 'result'] as const,
    registers: [this.registry],
  });
  readonly retryBudgetExhausted = new Counter({
    name: 'breakwater_retry_budget_exhausted_total',
    help: 'Retries refused because the route retry budget was spent.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly unreplayableBodies = new Counter({
    name: 'breakwater_request_body_unreplayable_total',
    help: 'Requests whose body was not kept for replay, so they were streamed once and could not be retried: too-large (over maxReplayBody) or memory (past memory.replayBuffers).',
    labelNames: ['route', 'reason'] as const,
    registers: [this.registry],
  });
  /** What the replay-buffer gauge reads at each scrape; set by the runtime. */
  replayMemory: { readonly used: number } | undefined;
  readonly replayBufferBytes: Gauge = new Gauge({
    name: 'breakwater_replay_buffer_bytes',
    help: 'Bytes of request bodies held in memory for replay, bounded by memory.replayBuffers.',
    registers: [this.registry],
    collect: (): void => this.replayBufferBytes.set(this.replayMemory?.used ?? 0),
  });
  readonly timeouts = new Counter({
    name: 'breakwater_timeouts_total',
    help: 'Timeouts, by kind: connect, per-try, deadline.',
    labelNames: ['route', 'kind'] as const,
    registers: [this.registry],
  });
  readonly circuitState = new HotGauge({
    name: 'breakwater_circuit_state',
    help: 'Circuit breaker state per route: 1 for the current state, 0 for the others.',
    labelNames: ['route', 'state'] as const,
    registers: [this.registry],
  });
  readonly circuitTransitions = new Counter({
    name: 'breakwater_circuit_transitions_total',
    help: 'Circuit breaker state changes.',
    labelNames: ['route', 'from', 'to'] as const,
    registers: [this.registry],
  });
  readonly shortCircuited = new HotCounter({
    name: 'breakwater_circuit_short_circuited_total',
    help: 'Requests answered at once because the circuit was open (no upstream attempt).',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  /**
   * Bulkheads and upstreams of the serving generation, by name. Their gauges are read when scraped, not set on every
   * acquire, release or health change, and only what is exported here shows: a generation built by a reload that is
   * then refused never replaces the running one's series.
   */
  private readonly bulkheads = new Map<string, { labels: { scope: BulkheadScope; name: string }; bulkhead: BulkheadOccupancy }>();
  private readonly upstreams = new Map<string, ExportedUpstream>();
  /** The breaker whose state each route's circuit gauge shows. */
  private readonly circuits = new Map<string, object>();
  readonly bulkheadActive = new ScrapedGauge({
    name: 'breakwater_bulkhead_active',
    help: 'Requests holding a bulkhead slot.',
    labelNames: ['scope', 'name'] as const,
    registers: [this.registry],
    read: () => this.bulkheadSeries((bulkhead) => bulkhead.active),
  });
  readonly bulkheadQueued = new ScrapedGauge({
    name: 'breakwater_bulkhead_queued',
    help: 'Requests waiting for a bulkhead slot.',
    labelNames: ['scope', 'name'] as const,
    registers: [this.registry],
    read: () => this.bulkheadSeries((bulkhead) => bulkhead.queued),
  });
  readonly bulkheadRejected = new HotCounter({
    name: 'breakwater_bulkhead_rejected_total',
    help: 'Requests rejected by a bulkhead, by reason (queue-full, queue-timeout).',
    labelNames: ['scope', 'name', 'reason'] as const,
    registers: [this.registry],
  });
  readonly endpointHealthy = new ScrapedGauge({
    name: 'breakwater_endpoint_healthy',
    help: 'Whether an endpoint receives traffic (1) or is ejected or failing its health check (0).',
    labelNames: ['upstream', 'endpoint'] as const,
    registers: [this.registry],
    read: () => this.endpointSeries(),
  });
  readonly endpointEjections = new Counter({
    name: 'breakwater_endpoint_ejections_total',
    help: 'Endpoints ejected by outlier detection.',
    labelNames: ['upstream', 'endpoint'] as const,
    registers: [this.registry],
  });
  readonly dnsRefreshFailures = new Counter({
    name: 'breakwater_dns_refresh_failures_total',
    help: 'DNS resolutions of an upstream that failed, by reason (not-found, timeout, error); start-up retries included.',
    labelNames: ['upstream', 'reason'] as const,
    registers: [this.registry],
  });
  readonly healthChecks = new Counter({
    name: 'breakwater_health_checks_total',
    help: 'Active health checks, by result.',
    labelNames: ['upstream', 'result'] as const,
    registers: [this.registry],
  });
  readonly faultsInjected = new Counter({
    name: 'breakwater_faults_injected_total',
    help: 'Faults injected on purpose by a route fault policy.',
    labelNames: ['route', 'kind'] as const,
    registers: [this.registry],
  });
  readonly listenerConnectionCounts = new HotCounter({
    name: 'breakwater_listener_connections_total',
    help: 'Client connections a listener accepted, by protocol (http1, or h2c: HTTP/2 with prior knowledge).',
    labelNames: ['listener', 'protocol'] as const,
    registers: [this.registry],
  });
  readonly listenerRejected = new HotCounter({
    name: 'breakwater_listener_rejected_total',
    help: 'Connections and requests a listener refused before routing, by reason (a listener limit, or a malformed request).',
    labelNames: ['listener', 'reason'] as const,
    registers: [this.registry],
  });
  readonly tunnelsActive = new Gauge({
    name: 'breakwater_tunnels_active',
    help: 'Upgraded connections (WebSocket and other HTTP/1.1 Upgrade tunnels) open, by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly tunnelsClosed = new Counter({
    name: 'breakwater_tunnels_total',
    help: 'Tunnels that have ended, by route and how: client-closed, upstream-closed, client-error, upstream-error, idle-timeout, drain.',
    labelNames: ['route', 'result'] as const,
    registers: [this.registry],
  });
  readonly configReloads = new Counter({
    name: 'breakwater_config_reloads_total',
    help: 'Policy reloads, by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly configGeneration = new Gauge({
    name: 'breakwater_config_generation',
    help: 'Which policy version runs: 1 at start, +1 for each applied reload.',
    registers: [this.registry],
  });

  private *bulkheadSeries(read: (bulkhead: BulkheadOccupancy) => number): Generator<readonly [{ scope: BulkheadScope; name: string }, number]> {
    for (const { labels, bulkhead } of this.bulkheads.values()) yield [labels, read(bulkhead)];
  }

  private *endpointSeries(): Generator<readonly [{ upstream: string; endpoint: string }, number]> {
    const now = clock.time();
    for (const { name, endpoints } of this.upstreams.values()) {
      for (const e of endpoints) yield [{ upstream: name, endpoint: e.address }, e.available(now) ? 1 : 0];
    }
  }

  /** The text a scrape answers with, rendered without holding the event loop (see exposition.ts, shared-render.ts). */
  scrape(): Promise<Exposition> {
    return this.exposition.render();
  }

  /** Counts a bulkhead's rejections under `scope` and `name`; its slots show once exported. */
  bulkheadEvents(scope: BulkheadScope, name: string): { rejected(reason: 'queue-full' | 'queue-timeout'): void } {
    const rejected = this.bulkheadRejected.cellsBy({ scope, name }, 'reason');
    return { rejected: (reason) => rejected(reason).inc() };
  }

  /** The connection counters of one listener, both protocols' series present from the start at 0. */
  listenerConnections(listener: string): (protocol: 'http1' | 'h2c') => CounterCell {
    const cells = this.listenerConnectionCounts.cellsBy({ listener }, 'protocol');
    cells('http1');
    cells('h2c');
    return cells;
  }

  /** The rejection counters of one listener, every reason's series present from the start at 0. */
  listenerRejections(listener: string): (reason: ListenerRejectReason) => CounterCell {
    const cells = this.listenerRejected.cellsBy({ listener }, 'reason');
    for (const reason of LISTENER_REJECT_REASONS) cells(reason);
    return cells;
  }

  /** Exports a bulkhead's slots under `scope` and `name`, in place of any bulkhead exported there before. */
  exportBulkhead(scope: BulkheadScope, name: string, bulkhead: BulkheadOccupancy): void {
    this.bulkheads.set(`${scope}/${name}`, { labels: { scope, name }, bulkhead });
  }

  /** Exports an upstream's bulkhead and the health of its endpoints (as they are at each scrape). */
  exportUpstream(upstream: ExportedUpstream): void {
    this.upstreams.set(upstream.name, upstream);
    this.exportBulkhead('upstream', upstream.name, upstream.bulkhead);
  }

  /** Stops exporting an upstream that is gone, unless another has taken its name meanwhile. */
  forgetUpstream(upstream: ExportedUpstream): void {
    if (this.upstreams.get(upstream.name) === upstream) this.upstreams.delete(upstream.name);
    this.forgetBulkhead('upstream', upstream.name, upstream.bulkhead);
  }

  /** Shows `owner`'s state as the route's circuit state, in place of any breaker shown there before. */
  exportCircuit(route: string, owner: object, state: CircuitState): void {
    this.circuits.set(route, owner);
    for (const s of CIRCUIT_STATES) this.circuitState.set({ route, state: s }, s === state ? 1 : 0);
  }

  /** A breaker changed state; shown only while it is the route's exported one, not an old generation's. */
  showCircuitState(route: string, owner: object, state: CircuitState): void {
    if (this.circuits.get(route) === owner) this.exportCircuit(route, owner, state);
  }

  /** Stops exporting the circuit state of a breaker that is gone, unless another has taken the route meanwhile. */
  forgetCircuit(route: string, owner: object): void {
    if (this.circuits.get(route) !== owner) return;
    this.circuits.delete(route);
    for (const state of CIRCUIT_STATES) this.circuitState.remove({ route, state });
  }

  /** Stops exporting a bulkhead that is gone, unless another has taken its name meanwhile. */
  forgetBulkhead(scope: BulkheadScope, name: string, bulkhead: BulkheadOccupancy): void {
    const key = `${scope}/${name}`;
    if (this.bulkheads.get(key)?.bulkhead === bulkhead) this.bulkheads.delete(key);
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: UNUSED_SAMPLE_MS });
    for (const name of [...MISNAMED_DEFAULTS, ...Object.keys(EVENT_LOOP_LAG_GAUGES)]) this.registry.removeSingleMetric(name);
    registerEventLoopLag(this.registry, EVENT_LOOP_SAMPLE_MS);
    this.configReloads.inc({ result: 'success' }, 0);
    this.configReloads.inc({ result: 'failure' }, 0);
  }
}

export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}
