/**
 * The data plane: a node:http server per listener. Each request is matched to a route of the policy generation that
 * is current when it arrives (and finishes under it, even if a reload lands meanwhile), sent through the route's
 * stack, and the answer streamed back with backpressure. The listener's limits (listener-limits.ts) see each
 * connection and request first.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { HostPort, ListenerLimits } from '../config/policy.js';
import { clientGone, ProxyError, type Exchange, type Headers, type Outcome, type ResponseBody, type UpstreamResponse } from '../policies/exchange.js';
import type { CompiledRoute } from '../routing/route-stack.js';
import type { Router } from '../routing/router.js';
import { clock } from '../runtime/clock.js';
import type { AccessLog, RouteAccessLog } from '../telemetry/access-log.js';
import type { CounterCell } from '../telemetry/hot-counter.js';
import type { Metrics } from '../telemetry/metrics.js';
import { boundAddress } from './bound-address.js';
import { clientResponseHeaders, requestIdOf, upstreamRequestHeaders } from './headers.js';
import { ListenerLimiter, serverOptions } from './listener-limits.js';
import { readRequestBody } from './request-body.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

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

  constructor(
    readonly name: string,
    readonly address: HostPort,
    limits: ListenerLimits,
    /** The router of the current policy generation for this listener. */
    private readonly router: () => Router<CompiledRoute> | undefined,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly accessLog: AccessLog,
  ) {
    this.server = createServer(serverOptions(limits), (req, res) => {
      if (this.limiter.admit(req, res)) void this.handle(req, res);
    });
    this.limiter = new ListenerLimiter(this.server, name, limits, metrics.listenerRejections(name), log);
  }

  /** A reload's limits for this listener, applied without rebinding (see ListenerLimiter.apply). */
  applyLimits(limits: ListenerLimits): void {
    this.limiter.apply(limits);
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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

    const exchange: Exchange = {
      method,
      path: url,
      headers: upstreamRequestHeaders(req.headers, { remoteAddress: req.socket.remoteAddress, requestId }),
      body: { kind: 'none' },
      idempotent: IDEMPOTENT.has(method) || req.headers['idempotency-key'] !== undefined,
      deadline: Infinity,
      abortAttempt: undefined,
      clientGone: false,
      cleanups: [],
      trace: { attempts: 0, endpoints: [] },
    };
    let ended = false;
    let status = 0;
    let outcome: Outcome = 'ok';
    const finish = () => {
      if (ended) return;
      ended = true;
      for (const cleanup of exchange.cleanups) cleanup();
      if (!res.writableFinished && status === 0) outcome = 'client-gone';
      const seconds = (clock.time() - started) / 1000;
      route.finished(status || 499, outcome, seconds);
      this.writeAccessLog(route, exchange, method, path, status || 499, outcome, seconds, requestId);
      this.done();
    };
    let relayed: ResponseBody | undefined;
    res.once('close', () => {
      if (!res.writableFinished) {
        exchange.clientGone = true;
        const gone = clientGone();
        exchange.abortAttempt?.(gone);
        relayed?.abort(gone);
      }
      finish();
    });

    let response: UpstreamResponse;
    try {
      const body = readRequestBody(req, route.policy.retry.maxReplayBodyBytes);
      (exchange as { body: Exchange['body'] }).body = body instanceof Promise ? await body : body;
      if (exchange.body.kind === 'stream') route.unreplayableBody();
      response = await route.send(exchange);
      outcome = exchange.trace.local ?? (response.status >= 500 ? 'upstream-error' : 'ok');
    } catch (err) {
      const failure = err instanceof ProxyError ? err : new ProxyError('reset', (err as Error).message, {}, { cause: err });
      if (!(err instanceof ProxyError)) this.log.error({ err, route: route.policy.name }, 'unexpected error while proxying');
      outcome = failure.kind;
      status = failure.status;
      if (exchange.clientGone) return finish();
      const headers = Object.assign({}, failure.headers);
      headers['x-breakwater-attempts'] = String(exchange.trace.attempts);
      headers['x-request-id'] = requestId;
      this.sendLocal(res, failure.status, { error: failure.kind, detail: failure.message }, headers);
      return;
    }
    status = response.status;
    if (exchange.clientGone) {
      if (!Buffer.isBuffer(response.body)) response.body.abort(clientGone());
      return finish();
    }
    const headers = clientResponseHeaders(response.headers);
    headers['x-breakwater-attempts'] = String(exchange.trace.attempts);
    headers['x-request-id'] = requestId;
    if (this.draining) headers.connection = 'close';
    res.writeHead(response.status, headers);
    if (Buffer.isBuffer(response.body)) return void res.end(method === 'HEAD' ? undefined : response.body);
    relayed = response.body;
    relayed.pipeTo(res, (err) => this.log.warn({ listener: this.name, err: err.message }, 'upstream response body failed mid-stream'));
  }

  /**
   * Answers from Breakwater itself; the content headers are added to `headers`, the caller's own object. No object
   * spread on this path: a spread literal here left ~500 bytes per request surviving into V8's old generation
   * (--trace-gc-nvp), and fast-fail answers arrive by the thousand.
   */
  private sendLocal(res: ServerResponse, status: number, payload: object, headers: Headers): void {
    const body = JSON.stringify(payload);
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
    if (this.draining) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(body);
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
