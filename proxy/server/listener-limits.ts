/**
 * A listener's limits on what one client connection may hold (policy `listeners[].limits`), so that slow or greedy
 * clients cannot take the descriptors and memory that every other request needs. Node enforces the head timeout,
 * keep-alive idle timeout, connection cap and head size; the request body timeout is kept here on the socket's own
 * idle timer (an HTTP/2 stream's, for HTTP/2), armed while a body is arriving. Whatever the limits refuse is answered
 * (408, 431 or 400, then close; an HTTP/2 stream is answered and reset, its connection stays) and counted in
 * breakwater_listener_rejected_total, as is a malformed request.
 */
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { constants as h2, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Server as ListeningSocket, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ListenerLimits } from '../config/policy.js';
import type { CounterCell } from '../telemetry/hot-counter.js';
import type { ListenerRejectReason } from '../telemetry/metrics.js';
import { answerAndClose, responseUnderWay, type ConnectionAnswer } from './connection-answer.js';
import { grpcStatusOfHttp, isGrpc } from '../core/grpc.js';
import { answerGrpcLocally } from './grpc-answer.js';
import { answerLocally } from './local-answer.js';
import { hasDuplicateHost } from './headers.js';
import { hasBody } from './request-body.js';

/**
 * Node checks head timeouts on an interval (30 s unless told): a tenth of headersTimeout keeps a timeout within 10%
 * of its value, and the 1 s cap keeps an idle proxy from waking more than once a second for it.
 */
const MAX_CHECK_INTERVAL_MS = 1000;
const MIN_CHECK_INTERVAL_MS = 10;

/**
 * The response to the latest request with a body on a socket: while that body is incomplete, a socket timeout is a
 * body stall. The parser reads one request at a time, so no later body can be arriving meanwhile.
 */
const awaitingBody = Symbol('breakwater.awaitingBody');
type LimitedSocket = Socket & { [awaitingBody]?: ServerResponse };

/** createServer options for `limits`; requestTimeout 0 because a body may stream for as long as it keeps moving. */
export function serverOptions(limits: ListenerLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0,
    keepAliveTimeout: limits.idleTimeoutMs,
    maxHeaderSize: limits.maxHeaderSizeBytes,
    connectionsCheckingInterval: Math.min(MAX_CHECK_INTERVAL_MS, Math.max(MIN_CHECK_INTERVAL_MS, Math.round(limits.headersTimeoutMs / 10))),
  };
}

export class ListenerLimiter {
  private limits!: ListenerLimits;

  constructor(
    private readonly server: Server,
    /** The socket accepting connections for both protocols: the connection cap is its to enforce. */
    private readonly accepting: ListeningSocket,
    private readonly listener: string,
    limits: ListenerLimits,
    private readonly rejected: (reason: ListenerRejectReason) => CounterCell,
    private readonly log: Logger,
  ) {
    this.apply(limits);
    // With a 'timeout' listener Node leaves every socket timeout to us: idle keep-alive ones and body stalls alike.
    server.on('timeout', (socket: Socket) => this.onSocketTimeout(socket));
    accepting.on('drop', () => this.rejected('max-connections').inc());
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
  }

  /**
   * Takes new limits on a reload, without rebinding: timeouts and maxConnections hold for open connections too from
   * now on, maxHeaderSize for connections accepted from now on. The head-timeout check interval stays as set at bind.
   */
  apply(limits: ListenerLimits): void {
    this.limits = limits;
    this.server.headersTimeout = limits.headersTimeoutMs;
    this.server.keepAliveTimeout = limits.idleTimeoutMs;
    this.accepting.maxConnections = limits.maxConnections;
    // Undocumented, but where Node reads the createServer option from when it sets up each new connection's parser.
    (this.server as Server & { maxHeaderSize: number }).maxHeaderSize = limits.maxHeaderSizeBytes;
  }

  /** The first look at each request: false when it has been answered here and must not be proxied. */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    if (hasDuplicateHost(req.rawHeaders)) {
      this.rejected('bad-request').inc();
      const body = JSON.stringify({ error: 'bad request', detail: 'the request has more than one Host header' });
      res.writeHead(400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-breakwater-attempts': '0', connection: 'close' });
      res.end(body);
      return false;
    }
    if (hasBody(req)) {
      const socket = req.socket as LimitedSocket;
      socket[awaitingBody] = res;
      socket.setTimeout(this.limits.requestBodyTimeoutMs);
    }
    return true;
  }

  private onSocketTimeout(socket: LimitedSocket): void {
    const res = socket[awaitingBody];
    if (res !== undefined && !res.req.complete) return this.onBodyStalled(socket, res);
    if (responseUnderWay(socket)) socket.setTimeout(0); // the client is done; the time left is the route's to limit
    else socket.destroy(); // idle between requests: what Node does with a timeout nobody handles
  }

  private onBodyStalled(socket: LimitedSocket, res: ServerResponse): void {
    if (res.req.readableLength > 0) {
      // Bytes wait unread: the proxy stopped reading (the upstream takes the body slower), the client did not stall.
      socket.setTimeout(this.limits.requestBodyTimeoutMs);
      return;
    }
    this.reject(socket, 'body-timeout', { status: 408, error: 'request timeout', detail: this.bodyTimedOut() }, res);
  }

  private bodyTimedOut(): string {
    return `no byte of the request body arrived within limits.requestBodyTimeout of listener "${this.listener}" (${duration(this.limits.requestBodyTimeoutMs)})`;
  }

  /**
   * HTTP/1.1's body rule for an HTTP/2 request, gRPC calls included (a client-streaming call idle that long is cut as
   * Envoy's stream_idle_timeout would): on the stream's own idle timer, which every frame in or out restarts, since
   * one connection carries many streams. `stalled` ends the request first, as a client that left, so what it holds is
   * released and no part of the body goes upstream as if whole; then the stalled stream alone is answered and reset.
   */
  watchStreamBody(req: Http2ServerRequest, res: Http2ServerResponse, stalled: () => void): void {
    if (!hasBody(req as unknown as IncomingMessage)) return;
    req.stream.on('timeout', () => this.onStreamTimeout(req, res, stalled));
    req.stream.setTimeout(this.limits.requestBodyTimeoutMs);
  }

  private onStreamTimeout(req: Http2ServerRequest, res: Http2ServerResponse, stalled: () => void): void {
    const stream = req.stream;
    if (req.complete) return void stream.setTimeout(0); // the body is in: the time left is the route's to limit
    // Bytes wait unread: the proxy stopped reading (the upstream takes the body slower), the client did not stall.
    if (req.readableLength > 0 || stream.readableLength > 0) return void stream.setTimeout(this.limits.requestBodyTimeoutMs);
    this.rejected('body-timeout').inc();
    const detail = this.bodyTimedOut();
    this.log.debug({ listener: this.listener, reason: 'body-timeout', detail }, 'request rejected by the listener');
    stalled();
    if (stream.headersSent) return void stream.close(h2.NGHTTP2_CANCEL);
    const headers = { 'x-breakwater-attempts': '0' };
    if (isGrpc(req.headers['content-type'])) answerGrpcLocally(res, grpcStatusOfHttp(408), detail, headers);
    else answerLocally(req as unknown as IncomingMessage, res as unknown as ServerResponse, 408, headers, { error: 'request timeout', detail }, false);
    // RFC 9113 §8.1: an answer before the request is whole ends with RST_STREAM NO_ERROR, sent once the answer is out.
    stream.close(h2.NGHTTP2_NO_ERROR);
  }

  /** A connection that sent no byte within headersTimeout: answered as node:http answers a head that did not arrive. */
  silentConnection(socket: Socket): void {
    this.reject(socket, 'headers-timeout', this.headersTimedOut());
  }

  private headersTimedOut(): ConnectionAnswer {
    return {
      status: 408,
      error: 'request timeout',
      detail: `the request head did not arrive within limits.headersTimeout of listener "${this.listener}" (${duration(this.limits.headersTimeoutMs)})`,
    };
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    // The client went away, abruptly or by closing its side mid-request: nothing to answer or count, and the request
    // it left unfinished must see its connection close now rather than wait for an answer to go out first.
    if (err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE') {
      socket.destroy();
      return;
    }
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      this.reject(socket, 'headers-timeout', this.headersTimedOut());
    } else if (err.code === 'HPE_HEADER_OVERFLOW') {
      this.reject(socket, 'header-too-large', {
        status: 431,
        error: 'request header fields too large',
        detail: `the request head exceeds limits.maxHeaderSize of listener "${this.listener}" (${size(this.limits.maxHeaderSizeBytes)})`,
      });
    } else {
      // A malformed request never reaches an upstream.
      this.reject(socket, 'bad-request', { status: 400, error: 'bad request', detail: err.message });
    }
  }

  private reject(socket: Socket, reason: ListenerRejectReason, answer: ConnectionAnswer, own?: ServerResponse): void {
    if (!answerAndClose(socket, answer, own)) return;
    this.rejected(reason).inc();
    this.log.debug({ listener: this.listener, reason, detail: answer.detail }, 'request rejected by the listener');
  }
}

/** RFC 9112 §6.3: a request has a body only when it says so with Transfer-Encoding or a non-zero Content-Length. */
const duration = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
const size = (bytes: number): string => (bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`);
