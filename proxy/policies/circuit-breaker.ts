/**
 * Circuit breaker per route, on opossum. It sits outside the retries: one client request is one breaker call, so an
 * outage is not multiplied by retries. Open: answer at once with the fallback (or 503) and Retry-After, no upstream
 * attempt. Half-open: `halfOpenRequests` probes pass; the first success closes, a failure reopens. Beyond opossum's
 * rolling failure percentage it also opens after `consecutiveFailures` failures in a row.
 */
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import type { BreakerPolicy, FallbackPolicy } from '../config/policy.js';
import { clock } from '../core/clock.js';
import type { Exchange, Layer, Send, UpstreamResponse } from '../core/exchange.js';
import { grpcStatusOfFailure, ProxyError } from '../core/proxy-error.js';
import { localResponse } from '../core/local-response.js';
import { countedStatus, OUTCOMES } from '../core/outcome.js';
import type { PolicyPart } from './part.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerEvents {
  transition(from: BreakerState, to: BreakerState): void;
  shortCircuited(): void;
}

const BUCKETS = 10;

/** One interval per window length rotates every breaker's buckets, instead of two timers per breaker. */
const rotations = new Map<number, EventEmitter>();
function rotationFor(windowMs: number): EventEmitter {
  let emitter = rotations.get(windowMs);
  if (!emitter) {
    const e = new EventEmitter();
    e.setMaxListeners(0);
    setInterval(() => e.emit('rotate'), Math.max(1, Math.floor(windowMs / BUCKETS))).unref();
    rotations.set(windowMs, e);
    emitter = e;
  }
  return emitter;
}

/** Carries a response that counts as a failure out through opossum, so it can be forwarded afterwards. */
class FailedResponse extends Error {
  constructor(readonly response: UpstreamResponse) {
    super(`upstream answered ${response.status}`);
  }
}

export class RouteBreaker {
  private circuit: CircuitBreaker<[Exchange, Send], UpstreamResponse> | undefined;
  private isShutdown = false;
  private consecutive = 0;
  private probesInFlight = 0;
  private openedAt = 0;
  private current: BreakerState = 'closed';

  constructor(
    readonly route: string,
    readonly policy: BreakerPolicy,
    private readonly events: BreakerEvents,
  ) {}

  /**
   * Builds opossum's rolling window (its buckets, listeners and closures, kilobytes of heap) on the route's first call,
   * so the breaker of a route this application never calls costs next to nothing. Reading state must not call this.
   */
  private ensureCircuit(): CircuitBreaker<[Exchange, Send], UpstreamResponse> {
    if (!this.circuit) {
      this.circuit = this.createCircuit();
      // A call racing a reload that removed the route meets a shut circuit, as it would had the circuit been built.
      if (this.isShutdown) this.circuit.shutdown();
    }
    return this.circuit;
  }

  private createCircuit(): CircuitBreaker<[Exchange, Send], UpstreamResponse> {
    const policy = this.policy;
    const circuit = new CircuitBreaker(
      async (exchange: Exchange, next: Send) => {
        const response = await next(exchange);
        if (this.failsOn(response)) throw new FailedResponse(response);
        return response;
      },
      {
        timeout: false, // the route deadline bounds every call, and it really cancels the attempt
        errorThresholdPercentage: policy.errorThresholdPercentage,
        volumeThreshold: policy.volumeThreshold,
        resetTimeout: policy.resetTimeoutMs,
        rollingCountTimeout: policy.windowMs,
        rollingCountBuckets: BUCKETS,
        rotateBucketController: rotationFor(policy.windowMs),
        rollingPercentilesEnabled: false,
        enableSnapshots: false,
        // opossum passes fire's arguments after the error (its typings leave them out): the exchange comes first.
        errorFilter: (err: unknown, ...fired: unknown[]) => !this.countsAsFailure(err, fired[0] as Exchange),
      },
    );
    circuit.on('open', () => this.enter('open'));
    circuit.on('halfOpen', () => this.enter('half_open'));
    circuit.on('close', () => this.enter('closed'));
    circuit.on('success', (result: unknown) => {
      // opossum counts an error its filter passed as a success. A neutral outcome (the client left, a local
      // rejection) is neither: take it back out of the window, and leave the failure streak as it was.
      if (result instanceof Error) return this.uncount(circuit);
      this.consecutive = 0;
    });
    circuit.on('failure', () => {
      if (policy.consecutiveFailures !== undefined && ++this.consecutive >= policy.consecutiveFailures) circuit.open();
    });
    return circuit;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Milliseconds until an open breaker lets a probe through; 0 when not open. */
  msUntilProbe(): number {
    return this.current === 'open' ? Math.max(0, this.openedAt + this.policy.resetTimeoutMs - clock.time()) : 0;
  }

  snapshot() {
    const stats = this.circuit?.stats;
    return {
      route: this.route,
      state: this.current,
      msUntilProbe: Math.round(this.msUntilProbe()),
      consecutiveFailures: this.consecutive,
      window: {
        calls: stats?.fires ?? 0,
        failures: stats?.failures ?? 0,
        successes: stats?.successes ?? 0,
        shortCircuited: stats?.rejects ?? 0,
      },
    };
  }

  async call(exchange: Exchange, next: Send): Promise<UpstreamResponse> {
    // A shut breaker (its route removed by a reload) refuses through opossum: a probe would revive its state gauge.
    if (this.current === 'half_open' && !this.isShutdown) return this.probe(exchange, next);
    if (this.current === 'open') throw this.shortCircuit();
    try {
      return await this.ensureCircuit().fire(exchange, next);
    } catch (err) {
      if (err instanceof FailedResponse) return err.response;
      throw err;
    }
  }

  shutdown(): void {
    this.isShutdown = true;
    this.circuit?.shutdown();
  }

  /** Half-open: opossum allows exactly one probe, so Breakwater counts probes itself and settles the state. */
  private async probe(exchange: Exchange, next: Send): Promise<UpstreamResponse> {
    if (this.probesInFlight >= this.policy.halfOpenRequests) throw this.shortCircuit();
    this.probesInFlight++;
    try {
      const response = await next(exchange);
      if (this.failsOn(response)) this.ensureCircuit().open();
      else if (this.current === 'half_open') this.ensureCircuit().close();
      return response;
    } catch (err) {
      if (this.countsAsFailure(err, exchange)) this.ensureCircuit().open();
      throw err;
    } finally {
      this.probesInFlight--;
    }
  }

  private shortCircuit(): ProxyError {
    this.events.shortCircuited();
    const seconds = Math.max(1, Math.ceil(this.msUntilProbe() / 1000));
    return new ProxyError('circuit-open', `the circuit of route "${this.route}" is open`, {
      'x-breakwater-circuit': 'open',
      'retry-after': String(seconds),
    });
  }

  private enter(state: BreakerState): void {
    if (state === this.current) return;
    const from = this.current;
    this.current = state;
    if (state === 'open') this.openedAt = clock.time();
    if (state === 'closed') {
      // Start the closed period with an empty window, so failures from before the outage cannot reopen it at once.
      for (let i = 0; i < BUCKETS; i++) (this.ensureCircuit().status as unknown as { rotateBucket(): void }).rotateBucket();
      this.consecutive = 0;
    }
    this.events.transition(from, state);
  }

  /** A failure by `failOn`: a gRPC status it names, or the status the response counts as (see countedStatus). */
  private failsOn(response: UpstreamResponse): boolean {
    const { failOn } = this.policy;
    const grpcStatus = response.grpcStatus;
    return (grpcStatus !== undefined && failOn.grpcCodes.has(grpcStatus)) || failOn.statuses.has(countedStatus(response.status, grpcStatus));
  }

  /**
   * Whether an error counts against the upstream, by the outcome table and this breaker's `failOn`: by its kind, or
   * for a gRPC call also by the status its caller is told.
   */
  private countsAsFailure(err: unknown, exchange: Exchange): boolean {
    if (err instanceof FailedResponse) return true;
    if (!(err instanceof ProxyError)) return true;
    const failOn = this.policy.failOn;
    const grpcStatus = grpcStatusOfFailure(exchange, err);
    if (grpcStatus !== undefined && failOn.grpcCodes.has(grpcStatus)) return true;
    switch (OUTCOMES[err.kind].breaker) {
      case 'connect-failure':
        return failOn.connectFailure;
      case 'reset':
        return failOn.reset;
      case 'timeout':
        return failOn.timeout;
      default:
        return false; // neutral; a status is judged on the response (failsOn)
    }
  }

  /** Removes the call opossum just counted as fired and succeeded from the current bucket of its window. */
  private uncount(circuit: CircuitBreaker<[Exchange, Send], UpstreamResponse>): void {
    const bucket = (circuit.status as unknown as { window: Array<{ fires: number; successes: number }> }).window[0];
    if (bucket && bucket.fires > 0 && bucket.successes > 0) {
      bucket.fires--;
      bucket.successes--;
    }
  }
}

/** Answers an open circuit with the route's fallback when it has one. */
export function circuitBreakerLayer(breaker: RouteBreaker, fallback: FallbackPolicy | undefined): Layer {
  if (!fallback) return (next) => (exchange) => breaker.call(exchange, next);
  return (next) => async (exchange) => {
    try {
      return await breaker.call(exchange, next);
    } catch (err) {
      if (!(err instanceof ProxyError) || err.kind !== 'circuit-open') throw err;
      exchange.trace.local = 'circuit-open';
      // Assigned, not spread: see the listener's sendLocal.
      return localResponse(fallback.status, Object.assign({}, fallback.headers, err.headers), fallback.body);
    }
  };
}

/** The key of a route's breaker among its shared state (the admin API reads it there). */
export const BREAKER_STATE = 'circuit-breaker';

export const circuitBreakerPart: PolicyPart = {
  name: 'circuit-breaker',
  build({ policy, metrics, log, shared }) {
    const settings = policy.circuitBreaker;
    if (!settings) return undefined;
    const route = policy.name;
    const breaker = shared(BREAKER_STATE, settings, () => {
      const shortCircuited = metrics.shortCircuited.cell({ route });
      const built: RouteBreaker = new RouteBreaker(route, settings, {
        transition: (from, to) => {
          metrics.showCircuitState(route, built, to);
          metrics.circuitTransitions.inc({ route, from, to });
          log.warn({ route, from, to }, `circuit ${to.replace('_', '-')}`);
        },
        shortCircuited: () => shortCircuited.inc(),
      });
      return {
        value: built,
        activate: () => metrics.exportCircuit(route, built, built.state),
        dispose: () => {
          built.shutdown();
          metrics.forgetCircuit(route, built);
        },
      };
    });
    return circuitBreakerLayer(breaker, policy.fallback);
  },
};
