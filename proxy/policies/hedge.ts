/**
 * Hedged requests: when an idempotent request's attempt has no answer after `delay`, another attempt goes to another
 * endpoint; the first answer wins and the others are cancelled upstream. The delay is fixed, or a percentile of the
 * route's own recent attempt latencies, so it follows the route as it is now (Envoy hedges only on a per-try timeout).
 * Each hedge spends the route's retry budget, so hedging cannot add more load than retries may, and is counted in
 * `x-breakwater-attempts`. Hedges are attempts: this layer sits inside the retries, over the attempt.
 */
import type { HedgePolicy } from '../config/policy.js';
import { clock, type Timer } from '../core/clock.js';
import { countedStatus } from '../core/outcome.js';
import { discard, replayable, type Exchange, type Layer, type Send, type UpstreamResponse } from '../core/exchange.js';
import { ProxyError } from '../core/proxy-error.js';
import type { ForkedScope } from '../core/request-scope.js';
import { LatencyWindow } from './latency-window.js';
import type { PolicyPart } from './part.js';
import { sharedRetryBudget, type RetryBudget } from './retry-budget.js';

/** What became of a hedge: it answered first, another attempt did, or the budget allowed none. */
export type HedgeResult = 'won' | 'lost' | 'budget';

export interface HedgeOptions {
  budget: RetryBudget;
  /** Whether this layer counts requests towards the budget (the retry layer does when the route retries). */
  recordsRequests: boolean;
  /** The route's recent attempt latencies; the source of a percentile delay. */
  latencies: LatencyWindow;
  hedged(result: HedgeResult): void;
}

export function hedgeLayer(policy: HedgePolicy, options: HedgeOptions): Layer {
  const { budget, latencies } = options;
  return (next) => (exchange) => {
    if (options.recordsRequests) budget.recordRequest();
    const delayMs = policy.delayMs ?? latencies.percentile(policy.percentile!);
    // Sent twice only when that is safe and possible: an idempotent request whose body is kept for replay.
    if (delayMs === undefined || !exchange.idempotent || !replayable(exchange.body)) return timed(next, exchange, latencies);
    return new HedgeRace(exchange, next, delayMs, policy.maxAttempts, options).run();
  };
}

/** One attempt whose latency to its response head feeds the window. */
function timed(next: Send, exchange: Exchange, latencies: LatencyWindow): Promise<UpstreamResponse> {
  const started = clock.time();
  const response = next(exchange);
  response.then(() => latencies.record(clock.time() - started), () => undefined);
  return response;
}

/** The attempts of one hedged request, each in its own fork of the request's scope so the losers can be cut alone. */
class HedgeRace {
  private readonly scopes: ForkedScope[] = [];
  private inFlight = 0;
  private settled = false;
  private timer: Timer | undefined;
  /** A 5xx that came while another attempt was still out: the answer if none does better. */
  private fallback: UpstreamResponse | undefined;
  private resolve!: (response: UpstreamResponse) => void;
  private reject!: (error: unknown) => void;

  constructor(
    private readonly exchange: Exchange,
    private readonly next: Send,
    private readonly delayMs: number,
    private readonly maxAttempts: number,
    private readonly options: HedgeOptions,
  ) {}

  run(): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.launch();
    });
  }

  private launch(): void {
    const scope = this.exchange.scope.fork();
    const first = this.scopes.length === 0;
    this.scopes.push(scope);
    this.inFlight++;
    const started = clock.time();
    // Only the first attempt passes interim responses on: the client must not see two 100 Continues.
    const attempt: Exchange = { ...this.exchange, scope, informational: first ? this.exchange.informational : undefined };
    this.next(attempt).then(
      (response) => this.answered(scope, response, clock.time() - started),
      (error: unknown) => this.failed(error),
    );
    if (this.scopes.length < this.maxAttempts) this.timer = clock.at(started + this.delayMs, HedgeRace.hedgeDue, this);
  }

  /** The shared clock's callback (one function for every race; the race is its argument). */
  static hedgeDue(race: HedgeRace): void {
    race.timer = undefined;
    if (race.settled || race.exchange.scope.reason || clock.time() >= race.exchange.scope.deadline) return;
    if (!race.options.budget.tryWithdraw()) return race.options.hedged('budget');
    race.launch();
  }

  private answered(scope: ForkedScope, response: UpstreamResponse, latencyMs: number): void {
    this.inFlight--;
    if (this.settled) return discard(response);
    this.options.latencies.record(latencyMs);
    if (countedStatus(response.status, response.grpcStatus) < 500 || this.inFlight === 0) return this.win(scope, response);
    if (this.fallback) discard(this.fallback); // of two 5xx, the newer one is kept
    this.fallback = response;
  }

  private failed(error: unknown): void {
    this.inFlight--;
    // The request itself was stopped (client gone, deadline): every attempt was, and that is the answer.
    const stopped = this.exchange.scope.reason;
    if (this.settled || (this.inFlight > 0 && !stopped)) return;
    if (this.fallback && !stopped) return this.win(undefined, this.fallback);
    this.settle();
    this.reject(stopped ?? error);
  }

  private win(winner: ForkedScope | undefined, response: UpstreamResponse): void {
    if (this.fallback && this.fallback !== response) discard(this.fallback);
    this.settle();
    for (let i = 0; i < this.scopes.length; i++) {
      const scope = this.scopes[i]!;
      if (scope !== winner) scope.abort(new ProxyError('cancelled', 'another hedged attempt answered first'));
      if (i > 0) this.options.hedged(scope === winner ? 'won' : 'lost');
    }
    this.resolve(response);
  }

  private settle(): void {
    this.settled = true;
    this.timer?.cancel();
    this.timer = undefined;
  }
}

export const hedgePart: PolicyPart = {
  name: 'hedge',
  build(route) {
    const { policy, metrics, shared } = route;
    if (!policy.hedge) return undefined;
    const hedges = metrics.hedges.cellsBy({ route: policy.name }, 'result');
    return hedgeLayer(policy.hedge, {
      budget: sharedRetryBudget(route),
      recordsRequests: policy.retry.attempts <= 1,
      latencies: shared('hedge-latencies', {}, () => ({ value: new LatencyWindow() })),
      hedged: (result) => hedges(result).inc(),
    });
  },
};
