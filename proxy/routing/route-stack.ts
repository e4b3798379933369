/**
 * Builds one route's "send this request" stack from its policy, outermost first:
 *   fault → route bulkhead → upstream bulkhead → circuit breaker → retry → attempt
 * The route deadline is not a layer: the request's scope holds it from the arrival of the head, over every layer and
 * the response body.
 * The breaker sits outside the retries (one request = one breaker call) and inside the bulkheads (a rejection says
 * nothing about the upstream). All label values are bound here, once, so the per-request path does no lookups.
 */
import type { Logger } from 'pino';
import type { RoutePolicy } from '../config/policy.js';
import { Bulkhead, bulkheadLayer } from '../policies/bulkhead.js';
import { circuitBreakerLayer, RouteBreaker } from '../policies/circuit-breaker.js';
import { compose, type Layer, type Outcome, type Send, type UnreplayableReason } from '../core/exchange.js';
import { faultLayer } from '../policies/fault.js';
import { retryLayer } from '../policies/retry.js';
import { RetryBudget } from '../policies/retry-budget.js';
import type { AccessLog, RouteAccessLog } from '../telemetry/access-log.js';
import type { CounterCell } from '../telemetry/hot-counter.js';
import { CIRCUIT_STATES, statusClass, type Metrics } from '../telemetry/metrics.js';
import { attemptSend } from '../upstream/attempt.js';
import type { Upstream } from '../upstream/upstream.js';
import type { GenerationUsers } from '../runtime/generation-users.js';

export interface CompiledRoute {
  readonly policy: RoutePolicy;
  readonly upstream: Upstream;
  readonly send: Send;
  readonly breaker: RouteBreaker | undefined;
  readonly routeBulkhead: Bulkhead | undefined;
  readonly retryBudget: RetryBudget | undefined;
  /** The requests of the generation this route belongs to: each holds it until it ends. */
  readonly users: GenerationUsers;
  /** The deadline error's message, written once. */
  readonly deadlineMessage: string;
  /** The route's access log, its listener, route and upstream fields serialised once. */
  readonly accessLog: RouteAccessLog;
  /** Records one finished request: counters and the duration histogram. */
  finished(status: number, outcome: Outcome, seconds: number): void;
  /** Counts a request whose body was not kept for replay, and why. */
  unreplayableBody(reason: UnreplayableReason): void;
  /** Exports this route's breaker state and bulkhead, once its generation is the one serving. */
  activate(): void;
}

/** State worth keeping across a reload when the settings that shape it are unchanged. */
export interface CarriedState {
  breaker?: RouteBreaker;
  routeBulkhead?: Bulkhead;
  retryBudget?: RetryBudget;
}

export function buildRoute(
  policy: RoutePolicy,
  upstream: Upstream,
  telemetry: { metrics: Metrics; log: Logger; accessLog: AccessLog },
  users: GenerationUsers,
  carried: CarriedState = {},
): CompiledRoute {
  const { metrics, log } = telemetry;
  const route = policy.name;
  const layers: Layer[] = [];

  if (policy.fault) layers.push(faultLayer(policy.fault, (kind) => metrics.faultsInjected.inc({ route, kind })));

  let routeBulkhead: Bulkhead | undefined;
  if (policy.maxConcurrent !== undefined) {
    routeBulkhead =
      carried.routeBulkhead?.limits.maxConcurrent === policy.maxConcurrent
        ? carried.routeBulkhead
        : new Bulkhead({ maxConcurrent: policy.maxConcurrent, maxPending: 0, queueTimeoutMs: 0 }, metrics.bulkheadEvents('route', route), `route "${route}"`);
    layers.push(bulkheadLayer(routeBulkhead));
  }
  layers.push(bulkheadLayer(upstream.bulkhead));

  let breaker: RouteBreaker | undefined;
  let publishBreaker: (() => void) | undefined;
  if (policy.circuitBreaker) {
    const keep = carried.breaker && sameSettings(carried.breaker.policy, policy.circuitBreaker);
    breaker = keep ? carried.breaker! : newBreaker(policy, metrics, log);
    if (!keep) publishBreaker = () => setCircuitGauges(metrics, route, 'closed');
    layers.push(circuitBreakerLayer(breaker, policy.fallback));
  }

  let retryBudget: RetryBudget | undefined;
  if (policy.retry.attempts > 1) {
    const retried = metrics.retries.cellsBy({ route }, 'reason');
    // The budget's window of recent requests and retries survives a reload that does not change the budget.
    const sameBudget = carried.retryBudget && sameSettings(carried.retryBudget.policy, policy.retry.budget);
    retryBudget = sameBudget ? carried.retryBudget! : new RetryBudget(policy.retry.budget);
    layers.push(
      retryLayer(policy.retry, retryBudget, {
        retried: (reason) => retried(reason).inc(),
        skipped: (reason) => {
          metrics.retriesSkipped.inc({ route, reason });
          if (reason === 'budget') metrics.retryBudgetExhausted.inc({ route });
        },
      }),
    );
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
  const duration = metrics.requestDuration.cell(labels);
  // By outcome, then status class (status / 100): no key is built per request.
  const counted = new Map<Outcome, CounterCell[]>();
  const unreplayable = { 'too-large': metrics.unreplayableBodies.labels({ route, reason: 'too-large' }), memory: metrics.unreplayableBodies.labels({ route, reason: 'memory' }) };
  return {
    policy,
    upstream,
    send,
    breaker,
    routeBulkhead,
    retryBudget,
    users,
    deadlineMessage: `the route timeout of route "${route}" (${policy.timeoutMs} ms) passed`,
    accessLog: telemetry.accessLog.for({ listener: policy.listener, route, upstream: upstream.name }),
    finished(status, outcome, seconds) {
      let byClass = counted.get(outcome);
      if (!byClass) counted.set(outcome, (byClass = []));
      const index = Math.floor(status / 100);
      (byClass[index] ??= metrics.requests.cell({ ...labels, status_class: statusClass(status), outcome })).inc();
      duration.observe(seconds);
    },
    unreplayableBody: (reason) => unreplayable[reason].inc(),
    activate() {
      publishBreaker?.();
      if (routeBulkhead) metrics.exportBulkhead('route', route, routeBulkhead);
    },
  };
}

/** State built from settings is carried across a reload while its settings (normalized, in key order) are unchanged. */
function sameSettings(carried: object, next: object | undefined): boolean {
  return JSON.stringify(carried) === JSON.stringify(next);
}

function setCircuitGauges(metrics: Metrics, route: string, current: (typeof CIRCUIT_STATES)[number]): void {
  for (const state of CIRCUIT_STATES) metrics.circuitState.set({ route, state }, state === current ? 1 : 0);
}

function newBreaker(policy: RoutePolicy, metrics: Metrics, log: Logger): RouteBreaker {
  const route = policy.name;
  const shortCircuited = metrics.shortCircuited.cell({ route });
  return new RouteBreaker(route, policy.circuitBreaker!, {
    transition: (from, to) => {
      setCircuitGauges(metrics, route, to);
      metrics.circuitTransitions.inc({ route, from, to });
      log.warn({ route, from, to }, `circuit ${to.replace('_', '-')}`);
    },
    shortCircuited: () => shortCircuited.inc(),
  });
}
