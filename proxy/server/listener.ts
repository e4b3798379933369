/**
 * The data plane: one port per listener serving HTTP/1.1 (node:http) and HTTP/2 with prior knowledge (node:http2),
 * told apart by each connection's first bytes (protocol-front.ts). Each request, of either protocol, is matched to a
 * route of the policy generation that is current when it arrives (and finishes under it, even if a reload lands
 * meanwhile), sent through the route's stack, and the answer streamed back with backpressure. node:http2's
 * compatibility request and response mirror node:http's, so one handler serves both; where the protocols differ
 * (closing a connection, cutting a response, pseudo-headers) it asks `isHttp2`. The listener's limits
 * (listener-limits.ts, and the HTTP/2 settings) see each connection and request first. gRPC calls get gRPC answers.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { constants as h2, type Http2ServerRequest } from 'node:http2';
import type { AddressInfo, Server as ListeningSocket } from 'node:net';
import type { Logger } from 'pino';
import type { HostPort, ListenerPolicy } from '../config/policy.js';

import { discard, type ErrorKind, type Exchange, type Headers, type Outcome, type RequestBody, type ResponseBody, type UpstreamResponse } from '../core/exchange.js';
import { clientGone, grpcStatusOfError, ProxyError } from '../core/proxy-error.js';
import { classifyError, outcomeOfResponse } from '../core/outcome.js';
import { GRPC_STATUS_OF_KIND, GrpcStatus, grpcStatusOf, grpcStatusOfHttp, isGrpc, parseGrpcTimeout } from '../core/grpc.js';
import { StreamReplay } from '../core/stream-replay.js';
import { RequestScope } from '../core/request-scope.js';
import type { CompiledRoute } from '../routing/route-stack.js';
import type { Router } from '../routing/router.js';
import { clock } from '../core/clock.js';
import type { AccessLog } from '../telemetry/access-log.js';
import type { Metrics } from '../telemetry/metrics.js';
import { boundAddress } from './bound-address.js';
import { ClientResponse, type ClientH2Response } from './client-response.js';
import { answerGrpcLocally, endGrpcWithStatus, sendTrailersOnly } from './grpc-answer.js';
import { H2Sessions } from './h2-sessions.js';
import { protocolFront } from './protocol-front.js';
import { clientResponseHeaders, requestIdOf, upstreamRequestHeaders } from './headers.js';
import { ListenerLimiter, serverOptions } from './listener-limits.js';
import type { ReplayMemory } from './replay-memory.js';
import { answerLocally } from './local-answer.js';
import { hasBody, readRequestBody } from './request-body.js';
import { answeredAtTarget } from './request-target.js';
import type { Tunnels } from './tunnels.js';
import { UnroutedRequests } from './unrouted-requests.js';
import { UpgradeHandler } from './upgrade.js';

/** What a listener takes from its policy; a reload applies it again (applySettings). */
type ListenerSettings = Pick<ListenerPolicy, 'name' | 'address' | 'limits' | 'trustForwarded' | 'http2'>;

/** An HTTP/2 request (node:http2's compatibility request reports version 2). */
const isHttp2 = (req: IncomingMessage): boolean => req.httpVersionMajor === 2;

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const NO_BODY: RequestBody = { kind: 'none' };

export class DataPlaneListener {
  /** HTTP/1.1: handed each connection that did not open with the HTTP/2 preface; it never listens itself. */
  readonly server: Server;
  private readonly h2: H2Sessions;
  /** The listening socket both protocols' connections arrive on. */
  private readonly front: ListeningSocket;
  private settings: ListenerSettings;
  /** Requests in flight on HTTP/2: cut when drain.timeout passes (closeAllConnections), gRPC calls with a status. */
  private readonly http2Requests = new Set<RequestScope>();
  /** The address the server is bound to, once listening (port 0 resolved). */
  bound: string | undefined;
  /** Requests being handled; drain waits for this to reach zero. */
  inflight = 0;
  private draining = false;
  private idleWaiters: Array<() => void> = [];
  private readonly unrouted: UnroutedRequests;
  private readonly limiter: ListenerLimiter;

  readonly name: string;
  readonly address: HostPort;
  /** Whether this listener's clients' x-forwarded-* headers are trusted (listeners[].trustForwarded). */
  private trustForwarded: boolean;

  constructor(
    settings: ListenerSettings,
    /** The router of the current policy generation for this listener. */
    private readonly router: () => Router<CompiledRoute> | undefined,
    metrics: Metrics,
    private readonly log: Logger,
    accessLog: AccessLog,
    /** The process-wide bound on request bodies kept for replay. */
    private readonly replayMemory: ReplayMemory,
    /** The process-wide tunnels, which upgrade handshakes open (upgrade.ts). */
    tunnels: Tunnels,
  ) {
    const { name, limits } = settings;
    this.name = name;
    this.address = settings.address;
    this.settings = settings;
    this.trustForwarded = settings.trustForwarded;
    this.server = createServer<typeof IncomingMessage, typeof ClientResponse>(
      { ...serverOptions(limits), ServerResponse: ClientResponse },
      (req, res) => {
        if (this.limiter.admit(req, res)) this.serve(req, res);
      },
    );
    this.unrouted = new UnroutedRequests(name, metrics, accessLog);
    const connections = metrics.listenerConnections(name);
    // The compatibility request and response stand in for node:http's (see isHttp2 for where they differ).
    this.h2 = new H2Sessions(
      settings.http2,
      limits.idleTimeoutMs,
      (req, res) => this.serve(req as unknown as IncomingMessage, res as unknown as ClientResponse),
      () => connections('h2c').inc(),
    );
    this.front = protocolFront(
      {
        http1: (socket, head) => {
          connections('http1').inc();
          this.server.emit('connection', socket);
          if (head.length > 0) socket.emit('data', head);
        },
        h2c: (socket) => this.h2.accept(socket),
        silent: (socket) => this.limiter.silentConnection(socket),
      },
      () => ({ h2c: this.settings.http2.enabled, firstByteTimeoutMs: this.settings.limits.headersTimeoutMs }),
    );
    this.limiter = new ListenerLimiter(this.server, this.front, name, limits, metrics.listenerRejections(name), log);
    const upgrades = new UpgradeHandler({
      router,
      unrouted: this.unrouted,
      draining: () => this.draining,
      trustForwarded: () => this.trustForwarded,
      admit: (req, res) => this.limiter.admit(req, res),
      log,
      tunnels,
      serve: (req, res) => this.serve(req, res),
    });
    this.server.on('upgrade', upgrades.handle);
  }

  /** Whether the port is bound and accepting connections. */
  get listening(): boolean {
    return this.front.listening;
  }

  /** A reload's settings for this listener, applied without rebinding (see ListenerLimiter.apply). */
  applySettings(settings: ListenerSettings): void {
    this.settings = settings;
    this.limiter.apply(settings.limits);
    this.h2.apply(settings.http2, settings.limits.idleTimeoutMs);
    this.trustForwarded = settings.trustForwarded;
  }

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`listener "${this.name}" cannot listen on ${this.address.text}: ${err.message}`));
      this.front.once('error', onError);
      this.front.listen(this.address.port, this.address.host, () => {
        this.front.off('error', onError);
        // node:http starts tracking its connections (head timeouts, closeIdleConnections) when it is listening; its
        // connections come from the front, so it is told here.
        this.server.emit('listening');
        const bound = boundAddress(this.front.address() as AddressInfo);
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
    this.h2.startDraining();
  }

  /** Stop accepting connections; keep-alive clients are told to go on the next response. */
  stopAccepting(): void {
    this.startDraining();
    this.front.close();
    this.server.close();
    this.server.closeIdleConnections();
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** drain.timeout has passed: what is still open is cut, each gRPC call with a status its client understands. */
  closeAllConnections(): void {
    const shutdown = new ProxyError('cancelled', `Breakwater is shutting down: listener "${this.name}" drained`, {}, { grpcStatus: GrpcStatus.UNAVAILABLE });
    for (const scope of this.http2Requests) scope.abort(shutdown);
    this.server.closeAllConnections();
    this.h2.closeAll();
  }

  /**
   * Serves one request. A fault of Breakwater's own fails that request, logged (a 500, or a cut once its head went
   * out), never the process and every other request with it. What the request held is released when it closes.
   */
  private serve(req: IncomingMessage, res: ClientResponse): void {
    this.handle(req, res).catch((err: unknown) => this.failedUnexpectedly(req, res, err));
  }

  private failedUnexpectedly(req: IncomingMessage, res: ClientResponse, err: unknown): void {
    const path = (req.url ?? '/').split('?')[0];
    this.log.error({ err, listener: this.name, method: req.method, path }, 'unexpected error while serving a request');
    if (res.headersSent || res.destroyed) return void res.destroy();
    try {
      const detail = 'Breakwater failed while serving this request; its log has the error';
      this.sendLocal(res, isGrpc(req.headers['content-type']), 500, GrpcStatus.INTERNAL, 'internal error', detail, { 'x-request-id': requestIdOf(req.headers) });
    } catch {
      res.destroy();
    }
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
    const grpc = isGrpc(req.headers['content-type']);
    const route = this.router()?.match(method, path, req.headers);
    if (!route) {
      this.sendLocal(res, grpc, 404, grpcStatusOfHttp(404), 'no route', this.unrouted.detail(method, path), {
        'x-breakwater-route': 'none',
        'x-breakwater-attempts': '0',
        'x-request-id': requestId,
      });
      this.unrouted.record(method, path, requestId);
      req.resume();
      this.done();
      return;
    }

    // Everything the request takes from here on is released by its scope, exactly once, however it ends.
    const scope = new RequestScope();
    route.users.enter();
    scope.hold(route.users.leave);
    const http2 = isHttp2(req);
    if (http2) {
      this.http2Requests.add(scope);
      // A stalled body is answered by the limiter; here it ends the request as a client that left.
      this.limiter.watchStreamBody(req as unknown as Http2ServerRequest, res as unknown as ClientH2Response, () => scope.abort(clientGone()));
    }
    // A gRPC caller's own deadline counts where it is the sooner one.
    const callTimeout = grpc ? parseGrpcTimeout(req.headers['grpc-timeout']) : undefined;
    if (callTimeout !== undefined && callTimeout < route.policy.timeoutMs) {
      scope.armDeadline(started, callTimeout, `the call's grpc-timeout (${callTimeout} ms) passed`);
    } else {
      scope.armDeadline(started, route.policy.timeoutMs, route.deadlineMessage);
    }
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
      grpc,
      scope,
      trace: { attempts: 0, endpoints: [] },
      informational: res,
    };
    let ended = false;
    let status = 0;
    let outcome: Outcome = 'ok';
    /** A gRPC call's status, once known: Breakwater's own, or the upstream's in its head or trailers. */
    let grpcStatus: number | undefined;
    let relayed: ResponseBody | undefined;
    const finish = () => {
      if (ended) return;
      ended = true;
      scope.end();
      if (http2) this.http2Requests.delete(scope);
      if (!res.writableFinished && status === 0) outcome = 'client-gone';
      if (grpc && grpcStatus === undefined) {
        const trailed = relayed?.trailers && grpcStatusOf(relayed.trailers);
        grpcStatus = trailed ?? (outcome === 'client-gone' ? GrpcStatus.CANCELLED : GrpcStatus.UNKNOWN);
        // A streamed call's status arrives last: its outcome is that status, not its head's 200.
        if (trailed !== undefined && outcome === 'ok') outcome = outcomeOfResponse(200, trailed);
      }
      route.finished({ method, path, status: status || 499, outcome, seconds: (clock.time() - started) / 1000, requestId, trace: exchange.trace, grpcStatus });
      this.done();
    };
    res.once('close', () => {
      // The client left: waiters, attempts and the body relay stop; nothing more is sent upstream.
      if (!res.writableFinished) scope.abort(clientGone());
      finish();
    });

    try {
      let response: UpstreamResponse;
      try {
        if (grpc && hasBody(req)) {
          // Messages flow as they arrive (a streaming call cannot wait for its end), kept for a retry while they fit.
          (exchange as { body: Exchange['body'] }).body = { kind: 'streaming', replay: new StreamReplay(req, route.policy.retry.maxReplayBodyBytes, this.replayMemory, scope) };
        } else {
          const body = readRequestBody(req, route.policy.retry.maxReplayBodyBytes, this.replayMemory, scope);
          (exchange as { body: Exchange['body'] }).body = body instanceof Promise ? await body : body;
          if (exchange.body.kind === 'stream') route.unreplayableBody(exchange.body.reason);
        }
        response = await route.send(exchange);
        if (scope.reason) {
          // Aborted while the head made its way out of the stack.
          if (!Buffer.isBuffer(response.body)) response.body.abort(scope.reason);
          throw scope.reason;
        }
        outcome = exchange.trace.local ?? outcomeOfResponse(response.status, response.grpcStatus);
      } catch (err) {
        const failure = err instanceof ProxyError ? err : new ProxyError('reset', (err as Error).message, {}, { cause: err });
        if (!(err instanceof ProxyError)) this.log.error({ err, route: route.policy.name }, 'unexpected error while proxying');
        outcome = failure.kind;
        status = failure.status;
        if (scope.reason?.kind === 'client-gone') return finish();
        const answer = Object.assign({}, failure.headers);
        answer['x-breakwater-attempts'] = String(exchange.trace.attempts);
        answer['x-request-id'] = requestId;
        if (grpc) grpcStatus = grpcStatusOfError(failure);
        this.sendLocal(res, grpc, failure.status, grpcStatus, failure.kind, failure.message, answer);
        return;
      }
      status = response.status;
      const answer = clientResponseHeaders(response.headers, exchange.trace.local === undefined ? route.via : undefined);
      answer['x-breakwater-attempts'] = String(exchange.trace.attempts);
      answer['x-request-id'] = requestId;
      if (grpc) {
        grpcStatus = response.grpcStatus;
        if (response.status !== 200 || !isGrpc(response.headers['content-type'])) {
          // Not a gRPC answer (an HTTP error page, a fault abort): its client could not read it. Told in gRPC instead.
          grpcStatus = grpcStatusOfHttp(response.status);
          discard(response);
          return answerGrpcLocally(res, grpcStatus, `the upstream answered HTTP ${response.status}`, answer);
        }
        if (grpcStatus !== undefined) {
          // Trailers-only: relayed as one frame that ends the call, as it came.
          discard(response);
          return sendTrailersOnly(res, answer);
        }
      }
      if (this.draining && !http2) answer.connection = 'close';
      res.writeHead(response.status, answer);
      if (Buffer.isBuffer(response.body)) return void res.end(method === 'HEAD' ? undefined : response.body);
      relayed = response.body;
      response.body.pipeTo(res, (err) => {
        // Failed after the head: counted and logged as what it is, and the client sees the response cut off (a reset,
        // or for a gRPC call its status in trailers), so no clean end can be mistaken for the whole body.
        const failure = err instanceof ProxyError ? err : undefined;
        outcome = failure ? failure.kind : classifyError(err);
        if (outcome === 'client-gone') return void res.destroy();
        if (grpc) {
          grpcStatus = failure ? grpcStatusOfError(failure) : GRPC_STATUS_OF_KIND[outcome as ErrorKind];
          endGrpcWithStatus(res, grpcStatus, failure ? failure.message : `the upstream's response failed midway (${outcome})`);
        } else if (http2) {
          (res as unknown as ClientH2Response).stream.close(h2.NGHTTP2_INTERNAL_ERROR);
        } else {
          res.socket?.resetAndDestroy();
        }
        this.log.warn({ listener: this.name, route: route.policy.name, outcome, err: err.message }, 'response cut off after its head');
      });
    } catch (err) {
      // A fault of Breakwater's own, after the route took the request: counted as one, and this request alone fails.
      outcome = 'internal-error';
      status = 500;
      if (grpc) grpcStatus = GrpcStatus.INTERNAL;
      this.failedUnexpectedly(req, res, err);
    }
  }

  /** Breakwater's own answer: JSON with the cause, or a gRPC status for a gRPC caller. */
  private sendLocal(res: ClientResponse, grpc: boolean, status: number, grpcStatus: number | undefined, error: string, detail: string, headers: Headers): void {
    if (grpc) answerGrpcLocally(res, grpcStatus!, detail, headers);
    else answerLocally(res.req, res, status, headers, { error, detail }, this.draining);
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
