/**
 * HTTP/1.1 Upgrade (WebSocket and any other protocol a route lists in `upgrade`). node:http hands an upgrade request
 * over with its connection ('upgrade' event); the route is matched as for any request, and a protocol the route does
 * not list is refused with 400, saying which key to set. The handshake then goes through the route's stack like a
 * request (connect timeout, retries on connect failure, breaker, bulkheads), under a tunnel slot of the upstream
 * (tunnels.ts) taken before anything goes upstream. A 101 from the upstream is passed on and the two connections become
 * a tunnel (tunnel.ts), which lets go of the request's scope and holds only its slot; any other answer is forwarded as
 * a normal response, and the connection closed.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { clock } from '../core/clock.js';
import type { Exchange, Headers, Outcome, RequestBody, UpstreamResponse } from '../core/exchange.js';
import { outcomeOfResponse } from '../core/outcome.js';
import { clientGone, ProxyError } from '../core/proxy-error.js';
import { RequestScope } from '../core/request-scope.js';
import type { CompiledRoute } from '../routing/route-stack.js';
import type { Router } from '../routing/router.js';
import { ClientResponse } from './client-response.js';
import { clientResponseHeaders, requestIdOf, upstreamRequestHeaders } from './headers.js';
import { answerLocally } from './local-answer.js';
import { hasBody } from './request-body.js';
import { answeredAtTarget } from './request-target.js';
import type { Tunnels } from './tunnels.js';
import type { UnroutedRequests } from './unrouted-requests.js';

/** What the handshakes of one listener need of it. */
export interface UpgradeContext {
  /** The router of the current policy generation for this listener. */
  router(): Router<CompiledRoute> | undefined;
  readonly unrouted: UnroutedRequests;
  draining(): boolean;
  trustForwarded(): boolean;
  /** The listener limits' first look at a request (listener-limits.ts): false when it has answered it already. */
  admit(req: IncomingMessage, res: ClientResponse): boolean;
  readonly log: Logger;
  readonly tunnels: Tunnels;
  /** Serves a request as the listener serves any other, on the response given. */
  serve(req: IncomingMessage, res: ClientResponse): void;
}

/** One protocol of the client's Upgrade list: as written (sent upstream), and its name in lower case (matched). */
interface Protocol {
  readonly text: string;
  readonly name: string;
}

/** An answer Breakwater gives itself in place of the switch: a ProxyError, or the refusal of a protocol. */
interface Refusal {
  readonly status: number;
  readonly kind: Outcome;
  readonly message: string;
  readonly headers: Record<string, string>;
}

const NO_BODY: RequestBody = { kind: 'none' };

/** `Upgrade: websocket` → websocket; `Upgrade: IRC/6.9, h2c` → irc (as IRC/6.9), h2c. */
export function protocolsOffered(value: string | undefined): Protocol[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((text) => text.trim())
    .filter((text) => text !== '')
    .map((text) => ({ text, name: text.split('/')[0]!.toLowerCase() }));
}

/**
 * `Upgrade: h2c` on a request without a body (curl --http2 on http://, some HTTP/2 clients) asks for HTTP/2 if the
 * server has it, and takes HTTP/1.1 otherwise (RFC 9110 §7.8 lets a server ignore Upgrade): served as a plain request.
 * HTTP/2 clients reach Breakwater with prior knowledge instead.
 */
function onlyOpportunistic(req: IncomingMessage): boolean {
  const offered = protocolsOffered(req.headers.upgrade);
  return offered.length > 0 && offered.every((p) => p.name === 'h2c') && !hasBody(req);
}

export class UpgradeHandler {
  constructor(private readonly context: UpgradeContext) {}

  /** node:http's 'upgrade' listener: the connection is this handler's from here on. */
  readonly handle = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node takes its own error listener off an upgraded connection: a reset must end it, not the process.
    socket.on('error', () => socket.destroy());
    // Answers other than a 101 are written through a response of their own, which closes the connection once sent.
    const res = new ClientResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.once('finish', () => (socket as Socket).destroySoon());
    if (!this.context.admit(req, res)) return;
    if (onlyOpportunistic(req)) return this.context.serve(req, res);
    if (answeredAtTarget(req, res, this.context.draining())) return;
    void this.handshake(req, res, socket as Socket, head);
  };

  private async handshake(req: IncomingMessage, res: ClientResponse, socket: Socket, head: Buffer): Promise<void> {
    const { tunnels } = this.context;
    const started = clock.time();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const requestId = requestIdOf(req.headers);
    const route = this.context.router()?.match(method, path, req.headers);
    if (!route) {
      this.answer(res, 404, { error: 'no route', detail: this.context.unrouted.detail(method, path) }, { 'x-breakwater-route': 'none', 'x-request-id': requestId });
      this.context.unrouted.record(method, path, requestId);
      return;
    }

    const trace: Exchange['trace'] = { attempts: 0, endpoints: [] };
    let recorded = false;
    const record = (status: number, outcome: Outcome) => {
      if (recorded) return;
      recorded = true;
      route.finished({ method, path, status, outcome, seconds: (clock.time() - started) / 1000, requestId, trace, grpcStatus: undefined });
    };
    const refuse = (failure: Refusal) => {
      this.answer(res, failure.status, { error: failure.kind, detail: failure.message }, { ...failure.headers, 'x-breakwater-attempts': String(trace.attempts), 'x-request-id': requestId });
      record(failure.status, failure.kind);
    };

    const offered = protocolsOffered(req.headers.upgrade);
    const protocol = offered.find((p) => route.policy.upgrade.has(p.name));
    if (!protocol) {
      const asked = offered[0]?.name ?? '';
      return refuse({
        status: 400,
        kind: 'upgrade-refused',
        message: `route "${route.policy.name}" does not allow an upgrade to "${asked}": list it in the route's upgrade key (upgrade: [${asked}])`,
        headers: {},
      });
    }
    const upstream = route.upstream;
    const limit = upstream.policy.pool.maxConnections;
    const slot = tunnels.reserve(upstream.name, limit);
    if (!slot) {
      return refuse(
        new ProxyError('bulkhead-rejected', `upstream "${upstream.name}" has ${limit} tunnels open or opening, the bound set by its pool.maxConnections`, {
          'x-breakwater-bulkhead': 'rejected',
        }),
      );
    }

    // Everything the handshake takes is released by its scope, exactly once; a tunnel then holds only its slot.
    const scope = new RequestScope();
    route.users.enter();
    scope.hold(route.users.leave);
    scope.armDeadline(started, route.policy.timeoutMs, route.deadlineMessage);
    const onClientGone = () => scope.abort(clientGone());
    socket.once('close', onClientGone);
    const exchange: Exchange = {
      method,
      path: url,
      headers: upstreamRequestHeaders(req.headers, {
        remoteAddress: socket.remoteAddress,
        requestId,
        httpVersion: req.httpVersion,
        trustForwarded: this.context.trustForwarded(),
      }),
      body: NO_BODY,
      // Sent again only when it reached no upstream (a connect failure): one that may have switched there already
      // would open a second session, and a hedge would open two.
      idempotent: false,
      scope,
      trace,
      upgrade: protocol.text,
    };
    let response: UpstreamResponse;
    try {
      response = await route.send(exchange);
      if (scope.reason) {
        if (!Buffer.isBuffer(response.body)) response.body.abort(scope.reason);
        throw scope.reason;
      }
    } catch (err) {
      const failure = err instanceof ProxyError ? err : new ProxyError('reset', (err as Error).message, {}, { cause: err });
      if (!(err instanceof ProxyError)) this.context.log.error({ err, route: route.policy.name }, 'unexpected error in an upgrade handshake');
      slot.release();
      scope.end();
      if (failure.kind === 'client-gone') return record(499, 'client-gone');
      return refuse(failure);
    }

    const outcome = trace.local ?? outcomeOfResponse(response.status, response.grpcStatus);
    const answer = clientResponseHeaders(response.headers, trace.local === undefined ? '1.1' : undefined);
    answer['x-breakwater-attempts'] = String(trace.attempts);
    answer['x-request-id'] = requestId;
    if (response.upgraded) {
      if (socket.destroyed || response.upgraded.destroyed) {
        // One side went while the 101 made its way out of the stack: nothing to tunnel.
        response.upgraded.destroy();
        socket.destroy();
        slot.release();
        scope.end();
        return record(499, 'client-gone');
      }
      socket.off('close', onClientGone);
      res.detachSocket(socket);
      socket.write(switchingProtocolsHead(response.headers.upgrade ?? protocol.text, answer));
      scope.end();
      record(response.status, outcome);
      tunnels.start(route.policy.name, slot, socket, response.upgraded, head, { protocol: protocol.name, idleTimeoutMs: route.policy.tunnelIdleTimeoutMs });
      return;
    }
    // Not switched: a normal response, after which the connection closes.
    slot.release();
    const done = () => {
      scope.end();
      record(response.status, outcome);
    };
    res.once('finish', done);
    res.once('close', () => {
      if (!res.writableFinished) scope.abort(clientGone());
      done();
    });
    res.writeHead(response.status, answer);
    if (Buffer.isBuffer(response.body)) return void res.end(response.body);
    response.body.pipeTo(res, () => socket.destroy());
  }

  private answer(res: ClientResponse, status: number, payload: object, headers: Headers): void {
    headers['x-breakwater-attempts'] ??= '0';
    answerLocally(res.req, res, status, headers, payload, this.context.draining());
  }
}

/** The 101 the client gets: the upstream's headers as for any response, and the two that make it a switch. */
function switchingProtocolsHead(upgrade: string | string[], headers: Headers): string {
  let head = `HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: ${Array.isArray(upgrade) ? upgrade.join(', ') : upgrade}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) head += `${name}: ${one}\r\n`;
  }
  return `${head}\r\n`;
}
