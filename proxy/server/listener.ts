/**
 * The data plane: a node:http server per listener. Each request is matched to a route of the policy generation that
 * is current when it arrives (and finishes under it, even if a reload lands meanwhile), sent through the route's
 * stack, and the answer streamed back with backpressure. The listener's limits (listener-limits.ts) see each
 * connection and request first.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { HostPort, ListenerPolicy } from '../config/policy.js';

import type { Exchange, Headers, Outcome, RequestBody, UpstreamResponse } from '../core/exchange.js';
import { clientGone, ProxyError } from '../core/proxy-error.js';
import { classifyError, outcomeOfStatus } from '../core/outcome.js';
import { RequestScope } from '../core/request-scope.js';
import type { CompiledRoute } from '../routing/route-stack.js';
import type { Router } from '../routing/router.js';
import { clock } from '../core/clock.js';
import type { AccessLog, RouteAccessLog } from '../telemetry/access-log.js';
import type { CounterCell } from '../telemetry/hot-counter.js';
import type { Metrics } from '../telemetry/metrics.js';
import { boundAddress } from './bound-address.js';
import { ClientResponse } from './client-response.js';
import { clientResponseHeaders, requestIdOf, upstreamRequestHeaders } from './headers.js';
import { ListenerLimiter, serverOptions } from './listener-limits.js';
import type { ReplayMemory } from './replay-memory.js';
import { answerLocally } from './local-answer.js';
import { readRequestBody } from './request-body.js';
import { answeredAtTarget } from './request-target.js';
import type { Tunnels } from './tunnels.js';
import { UpgradeHandler } from './upgrade.js';

/** What a listener takes from its policy; a reload applies it again (applySettings). */
type ListenerSettings = Pick<ListenerPolicy, 'name' | 'address' | 'limits' | 'trustForwarded'>;

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const NO_BODY: RequestBody = { kind: 'none' };

export class DataPlaneListener {
  readonly server: Server;
  /** The address the server is bound to, once listening (port 0 resolved). */
  bound: string | undefined;
  /** Requests being handled; drain waits for this to reach zero. */
  inflight = 0;
  private draining = false;
  private idleWaiters: Array<() => void> = [];
  private noRouteAccessLog: RouteAccessLog | undefined;
  private noRouteCount: CounterCell | undefined;
  private readonly limiter: ListenerLimiter;

  readonly name: string;
  readonly address: HostPort;
  /** Whether this listener's clients' x-forwarded-* headers are trusted (listeners[].trustForwarded). */
  private trustForwarded: boolean;

  constructor(
    settings: ListenerSettings,
    /** The router of the current policy generation for this listener. */
    private readonly router: () => Router<CompiledRoute> | undefined,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly accessLog: AccessLog,
    /** The process-wide bound on request bodies kept for replay. */
    private readonly replayMemory: ReplayMemory,
    /** The process-wide tunnels, which upgrade handshakes open (upgrade.ts). */
    tunnels: Tunnels,
  ) {
    const { name, limits } = settings;
    this.name = name;
    this.address = settings.address;
    this.trustForwarded = settings.trustForwarded;
    this.server = createServer<typeof IncomingMessage, typeof ClientResponse>(
      { ...serverOptions(limits), ServerResponse: ClientResponse },
      (req, res) => {
        if (this.limiter.admit(req, res)) void this.handle(req, res);
      },
    );
    this.limiter = new ListenerLimiter(this.server, name, limits, metrics.listenerRejections(name), log);
    const upgrades = new UpgradeHandler({
      listener: name,
      router,
      draining: () => this.draining,
      trustForwarded: () => this.trustForwarded,
      admit: (req, res) => this.limiter.admit(req, res),
      metrics,
      log,
      accessLog,
      tunnels,
    });
    this.server.on('upgrade', upgrades.handle);
  }

  /** A reload's settings for this listener, applied without rebinding (see ListenerLimiter.apply). */
  applySettings(settings: ListenerSettings): void {
    this.limiter.apply(settings.limits);
    this.trustForwarded = settings.trustForwarded;
  }

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`listener "${this.name}" cannot listen on ${this.address.text}: ${err.message}`));
      this.server.once('error', onError);
      this.server.listen(this.address.port, this.address.host, () => {
        this.server.off('error', onError);
        const bound = boundAddress(this.server.address() as AddressInfo);
        this.bound = bound;
        this.log.info({ listener: this.name, address: bound }, 'listening');
        resolve(bound);
      });
    });
  }

  /**
   * Drain begins: keep serving, but every response now closes its connection, so keep-alive clients reconnect (and
   * reach another pod) instead of reusing a socket that stopAccepting() would close under a request.
   */
  startDraining(): void {
    this.draining = true;
  }

  /** Stop accepting connections; keep-alive clients are told to go on the next response. */
  stopAccepting(): void {
    this.startDraining();
    this.server.close();
    this.server.closeIdleConnections();
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  closeAllConnections(): void {
    this.server.closeAllConnections();
  }

  private async handle(req: IncomingMessage, res: ClientResponse): Promise<void> {
    // Request-target forms and Max-Forwards (request-target.ts): a few requests are Breakwater's own to answer.
    if (answeredAtTarget(req, res, this.draining)) return;
    const started = clock.time();
    this.inflight++;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const requestId = requestIdOf(req.headers);
    const route = this.router()?.match(method, path, req.headers);
    if (!route) {
      this.sendLocal(res, 404, { error: 'no route', detail: `no route of listener "${this.name}" matches ${method} ${path}` }, {
        'x-breakwater-route': 'none',
        'x-breakwater-attempts': '0',
        'x-request-id': requestId,
      });
      (this.noRouteCount ??= this.metrics.requests.cell({ listener: this.name, route: '', upstream: '', status_class: '4xx', outcome: 'no-route' })).inc();
      if (this.accessLog.enabled) {
        (this.noRouteAccessLog ??= this.accessLog.for({ listener: this.name })).write({ method, path, status: 404, outcome: 'no-route', requestId });
      }
      req.resume();
      this.done();
      return;
    }

    // Everything the request takes from here on is released by its scope, exactly once, however it ends.
    const scope = new RequestScope();
    route.users.enter();
    scope.hold(route.users.leave);
    scope.armDeadline(started, route.policy.timeoutMs, route.deadlineMessage);
    const headers = upstreamRequestHeaders(req.headers, {
      remoteAddress: req.socket.remoteAddress,
      requestId,
      httpVersion: req.httpVersion,
      trustForwarded: this.trustForwarded,
    });
    const exchange: Exchange = {
      method,
      path: url,
      headers,
      body: NO_BODY,
      // Judged on what goes upstream: a key the client named in Connection is stripped, so it does not count.
      idempotent: IDEMPOTENT.has(method) || headers['idempotency-key'] !== undefined,
      scope,
      trace: { attempts: 0, endpoints: [] },
      informational: res,
    };
    let ended = false;
    let status = 0;
    let outcome: Outcome = 'ok';
    const finish = () => {
      if (ended) return;
      ended = true;
      scope.end();
      if (!res.writableFinished && status === 0) outcome = 'client-gone';
      const seconds = (clock.time() - started) / 1000;
      route.finished(status || 499, outcome, seconds);
      this.writeAccessLog(route, exchange, method, path, status || 499, outcome, seconds, requestId);
      this.done();
    };
    res.once('close', () => {
      // The client left: waiters, attempts and the body relay stop; nothing more is sent upstream.
      if (!res.writableFinished) scope.abort(clientGone());
      finish();
    });

    let response: UpstreamResponse;
    try {
      const body = readRequestBody(req, route.policy.retry.maxReplayBodyBytes, this.replayMemory, scope);
      (exchange as { body: Exchange['body'] }).body = body instanceof Promise ? await body : body;
      if (exchange.body.kind === 'stream') route.unreplayableBody(exchange.body.reason);
      response = await route.send(exchange);
      if (scope.reason) {
        // Aborted while the head made its way out of the stack.
        if (!Buffer.isBuffer(response.body)) response.body.abort(scope.reason);
        throw scope.reason;
      }
      outcome = exchange.trace.local ?? outcomeOfStatus(response.status);
    } catch (err) {
      const failure = err instanceof ProxyError ? err : new ProxyError('reset', (err as Error).message, {}, { cause: err });
      if (!(err instanceof ProxyError)) this.log.error({ err, route: route.policy.name }, 'unexpected error while proxying');
      outcome = failure.kind;
      status = failure.status;
      if (scope.reason?.kind === 'client-gone') return finish();
      const answer = Object.assign({}, failure.headers);
      answer['x-breakwater-attempts'] = String(exchange.trace.attempts);
      answer['x-request-id'] = requestId;
      this.sendLocal(res, failure.status, { error: failure.kind, detail: failure.message }, answer);
      return;
    }
    status = response.status;
    const answer = clientResponseHeaders(response.headers, exchange.trace.local === undefined);
    answer['x-breakwater-attempts'] = String(exchange.trace.attempts);
    answer['x-request-id'] = requestId;
    if (this.draining) answer.connection = 'close';
    res.writeHead(response.status, answer);
    if (Buffer.isBuffer(response.body)) return void res.end(method === 'HEAD' ? undefined : response.body);
    response.body.pipeTo(res, (err) => {
      // Failed after the head: counted and logged as what it is, and the client sees the response cut off (a reset,
      // so no clean end can be mistaken for the whole body).
      outcome = err instanceof ProxyError ? err.kind : classifyError(err);
      if (outcome === 'client-gone') return;
      res.socket?.resetAndDestroy();
      this.log.warn({ listener: this.name, route: route.policy.name, outcome, err: err.message }, 'response cut off after its head');
    });
  }

  private sendLocal(res: ClientResponse, status: number, payload: object, headers: Headers): void {
    answerLocally(res.req, res, status, headers, payload, this.draining);
  }

  private writeAccessLog(route: CompiledRoute, exchange: Exchange, method: string, path: string, status: number, outcome: Outcome, seconds: number, requestId: string): void {
    if (!this.accessLog.enabled) return;
    route.accessLog.write({
      method,
      path,
      status,
      outcome,
      attempts: exchange.trace.attempts,
      endpoints: exchange.trace.endpoints,
      retrySkipped: exchange.trace.retrySkipped,
      injected: exchange.trace.injected,
      durationMs: Math.round(seconds * 10_000) / 10,
      requestId,
    });
  }

  private done(): void {
    this.inflight--;
    if (this.inflight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
