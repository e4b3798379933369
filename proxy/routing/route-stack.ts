/**
 * Builds one route's "send this request" stack from its policy: the policy parts below, outermost first, over one
 * attempt to the upstream. The route deadline is not a layer: the request's scope holds it from the arrival of the
 * head, over every layer and the response body.
 * The breaker sits outside the retries (one request = one breaker call) and inside the bulkheads (a rejection says
 * nothing about the upstream); hedges are attempts, so they sit inside the retries. All label values are bound here
 * and in the parts, once, so the per-request path does no lookups.
 */
import type { Logger } from 'pino';
import type { RoutePolicy } from '../config/policy.js';
import { compose, type ExchangeTrace, type Layer, type Outcome, type Send, type UnreplayableReason } from '../core/exchange.js';
import { bulkheadLayer, routeBulkheadPart } from '../policies/bulkhead.js';
import { circuitBreakerPart } from '../policies/circuit-breaker.js';
import { faultPart } from '../policies/fault.js';
import { hedgePart } from '../policies/hedge.js';
import type { PolicyPart, RouteContext, SharedState } from '../policies/part.js';
import { retryPart } from '../policies/retry.js';
import type { AccessLog } from '../telemetry/access-log.js';
import type { CounterCell } from '../telemetry/hot-counter.js';
import { statusClass, type Metrics } from '../telemetry/metrics.js';
import { attemptSend } from '../upstream/attempt.js';
import type { Upstream } from '../upstream/upstream.js';
import type { GenerationUsers } from '../core/generation-users.js';
import { GRPC_CODE_NAMES, GrpcStatus, httpEquivalent } from '../core/grpc.js';
import { settingsFingerprint } from './settings-fingerprint.js';

/** The upstream's pool limits, shared by every route to it. */
const upstreamBulkheadPart: PolicyPart = { name: 'upstream-bulkhead', build: (route) => route.upstreamBulkhead };

/** The route stack, outermost first. */
export const POLICY_PARTS: readonly PolicyPart[] = [faultPart, routeBulkheadPart, upstreamBulkheadPart, circuitBreakerPart, retryPart, hedgePart];

/** A request at its end, as the route counts and logs it. */
export interface FinishedRequest {
  readonly method: string;
  /** Without the query string. */
  readonly path: string;
  readonly status: number;
  readonly outcome: Outcome;
  readonly seconds: number;
  readonly requestId: string;
  readonly trace: ExchangeTrace;
  /** A gRPC call's status: counted under grpc_status. */
  readonly grpcStatus: number | undefined;
}

/** A route's shared state with the settings it was built from. */
export interface CarriedState {
  readonly settings: string;
  readonly state: SharedState<unknown>;
}

export interface CompiledRoute {
  readonly policy: RoutePolicy;
  readonly upstream: Upstream;
  readonly send: Send;
  /** What its policy parts share across requests, by key; carried into the next generation while unchanged. */
  readonly shared: ReadonlyMap<string, CarriedState>;
  /** The requests of the generation this route belongs to: each holds it until it ends. */
  readonly users: GenerationUsers;
  /** The HTTP version its upstream answers in, for Via. */
  readonly via: '1.1' | '2';
  /** The deadline error's message, written once. */
  readonly deadlineMessage: string;
  /** Records one finished request: counters, the duration histogram and its access line. */
  finished(request: FinishedRequest): void;
  /** Counts a request whose body was not kept for replay, and why. */
  unreplayableBody(reason: UnreplayableReason): void;
  /** Exports what its shared state shows, once its generation is the one serving. */
  activate(): void;
}

export function buildRoute(
  policy: RoutePolicy,
  upstream: Upstream,
  telemetry: { metrics: Metrics; log: Logger; accessLog: AccessLog },
  users: GenerationUsers,
  carried: ReadonlyMap<string, CarriedState> = new Map(),
): CompiledRoute {
  const { metrics, log } = telemetry;
  const route = policy.name;
  const shared = new Map<string, CarriedState>();
  const context: RouteContext = {
    policy,
    upstreamBulkhead: bulkheadLayer(upstream.bulkhead),
    metrics,
    log,
    shared<T>(key: string, settings: object, create: () => SharedState<T>): T {
      const fingerprint = settingsFingerprint(settings);
      const own = shared.get(key);
      if (own) {
        if (own.settings !== fingerprint) throw new Error(`route "${route}": two policies ask for state "${key}" with different settings`);
        return own.state.value as T;
      }
      const previous = carried.get(key);
      const state = previous?.settings === fingerprint ? previous.state : create();
      shared.set(key, { settings: fingerprint, state });
      return state.value as T;
    },
  };
  const layers: Layer[] = [];
  for (const part of POLICY_PARTS) {
    const layer = part.build(context);
    if (layer) layers.push(layer);
  }

  const attempted = metrics.attempts.cellsBy({ upstream: upstream.name, route }, 'result');
  const send = compose(
    layers,
    attemptSend(upstream, policy.retry.perTryTimeoutMs, {
      attempted: (result) => attempted(result).inc(),
      timedOut: (kind) => metrics.timeouts.inc({ route, kind }),
    }),
  );

  const labels = { listener: policy.listener, route, upstream: upstream.name };
  // Its listener, route and upstream fields serialised once.
  const accessLog = telemetry.accessLog.for(labels);
  const logged = telemetry.accessLog.enabled;
  const duration = metrics.requestDuration.cell(labels);
  // By outcome, then status class (status / 100), or for gRPC calls their grpc-status: no key is built per request.
  const counted = new Map<Outcome, CounterCell[]>();
  const countedGrpc = new Map<Outcome, CounterCell[]>();
  const unreplayable = { 'too-large': metrics.unreplayableBodies.labels({ route, reason: 'too-large' }), memory: metrics.unreplayableBodies.labels({ route, reason: 'memory' }) };
  return {
    policy,
    upstream,
    send,
    shared,
    users,
    via: upstream.policy.protocol === 'http1' ? '1.1' : '2',
    deadlineMessage: `the route timeout of route "${route}" (${policy.timeoutMs} ms) passed`,
    finished({ method, path, status, outcome, seconds, requestId, trace, grpcStatus }) {
      if (grpcStatus === undefined) {
        let byClass = counted.get(outcome);
        if (!byClass) counted.set(outcome, (byClass = []));
        const index = Math.floor(status / 100);
        (byClass[index] ??= metrics.requests.cell({ ...labels, status_class: statusClass(status), outcome })).inc();
      } else {
        // A code outside gRPC's 17 counts as UNKNOWN, so the label set stays the 17 codes.
        const code = grpcStatus < GRPC_CODE_NAMES.length ? grpcStatus : GrpcStatus.UNKNOWN;
        let byCode = countedGrpc.get(outcome);
        if (!byCode) countedGrpc.set(outcome, (byCode = []));
        (byCode[code] ??= metrics.requests.cell({ ...labels, status_class: statusClass(httpEquivalent(code)), outcome, grpc_status: String(code) })).inc();
      }
      duration.observe(seconds);
      if (!logged) return;
      accessLog.write({
        method,
        path,
        status,
        outcome,
        attempts: trace.attempts,
        endpoints: trace.endpoints,
        retrySkipped: trace.retrySkipped,
        injected: trace.injected,
        durationMs: Math.round(seconds * 10_000) / 10,
        grpcStatus,
        requestId,
      });
    },
    unreplayableBody: (reason) => unreplayable[reason].inc(),
    activate() {
      for (const { state } of shared.values()) state.activate?.();
    },
  };
}
