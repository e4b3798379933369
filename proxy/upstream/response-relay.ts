/**
 * One attempt's undici dispatch handler, and the response body it yields. The body is relayed chunk by chunk to
 * whoever takes it (the client's response, or a discard when a retry replaces it) with the sink's backpressure
 * passed back to the upstream socket. undici's request() would wrap every response in an AsyncResource and a
 * Readable stream first, a cost paid on every response for nothing the relay needs.
 */
import type { Duplex } from 'node:stream';
import { util, type Dispatcher } from 'undici';
import type { BodySink, Headers, InformationalSink, ResponseBody, UpstreamResponse } from '../core/exchange.js';
import { grpcStatusOf } from '../core/grpc.js';
import { ProxyError } from '../core/proxy-error.js';
import { classifyError, outcomeOfResponse, type Outcome } from '../core/outcome.js';
import type { Endpoint } from './endpoint.js';
import type { Upstream } from './upstream.js';

/** Chunks kept while nobody has taken the body yet, before the upstream socket is paused. */
const HOLD_BYTES = 64 * 1024;
/** A body nobody wants is read and dropped up to this size, so its connection can be reused; past it, cut. */
const DISCARD_BYTES = 128 * 1024;

type Settle = { resolve: (response: UpstreamResponse) => void; reject: (err: unknown) => void };

export class ResponseRelay implements ResponseBody {
  /** Set by abort(): why the attempt was cut (a ProxyError from a deadline, or the client leaving). */
  reason: Error | undefined;
  trailers: Headers | undefined;
  private settle: Settle | undefined;
  private abortRequest: ((err: Error) => void) | undefined;
  private resumeRequest: (() => void) | undefined;
  private paused = false;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private sink: BodySink | undefined;
  private failed: ((err: Error) => void) | undefined;
  private discarded = 0;
  private discarding = false;
  private ended = false;
  private failure: Error | undefined;
  private bodiless = false;
  /** Whose passive health hears how the body ended (reportBodyTo); cleared once told. */
  private healthOf: Upstream | undefined;
  private endpoint: Endpoint | undefined;
  /** The upstream connection a 101 handed over: closed by abort() or discard() until its taker owns it. */
  private upgraded: Duplex | undefined;

  constructor(private readonly informational?: InformationalSink) {}

  /** Sends the request; resolves with status and headers as soon as they arrive, the body following through this. */
  send(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      dispatcher.dispatch(options, this);
    });
  }

  /**
   * Cuts the exchange (the connection is closed); a no-op once the response has ended. Before the head it fails the
   * attempt at once, even while the request still waits in the pool's queue for a connection; after it, a body being
   * relayed is cut off, so the client sees a truncated response, never a clean end.
   */
  abort(reason: Error): void {
    if (this.upgraded) return void this.upgraded.destroy();
    if (this.reason || this.ended || this.failure) return;
    this.reason = reason;
    if (this.settle) {
      const settle = this.settle;
      this.settle = undefined;
      settle.reject(reason);
    }
    this.abortRequest?.(reason);
    // A deadline says the endpoint was slow; the client leaving or a discard says nothing (the outcome table).
    this.tellHealth(reason instanceof ProxyError ? reason.kind : undefined);
    if (this.sink) this.fail(reason);
  }

  /**
   * The endpoint's passive health hears of a response below 500 when its body has ended, not at its head: a body
   * that fails midway counts as the failure it is.
   */
  reportBodyTo(upstream: Upstream, endpoint: Endpoint): void {
    this.healthOf = upstream;
    this.endpoint = endpoint;
    if (this.ended) this.tellHealth(this.endOutcome());
    else if (this.failure) this.tellHealth(classifyError(this.failure));
  }

  pipeTo(sink: BodySink, failed: (err: Error) => void): void {
    this.sink = sink;
    this.failed = failed;
    for (const chunk of this.held) sink.write(chunk);
    this.held = [];
    if (this.failure) return this.fail(this.failure);
    if (this.ended) return this.endSink();
    sink.on('drain', () => this.resume());
    this.resume();
  }

  discard(): void {
    if (this.upgraded) return void this.upgraded.destroy();
    if (this.ended || this.failure) return;
    this.discarding = true;
    this.held = [];
    this.drop(this.heldBytes);
    this.resume();
  }

  // undici's handler interface (the callbacks its request() is built on).

  onConnect(abort: (err?: Error) => void): void {
    this.abortRequest = abort;
    if (this.reason) abort(this.reason);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) {
      // Interim (103 Early Hints and the like): passed on while the attempt is live, the final response follows.
      if (this.informational && this.settle) this.informational.informational(statusCode, util.parseHeaders(rawHeaders));
      return true;
    }
    if (!this.settle) return true; // aborted while the head was on its way
    this.bodiless = statusCode === 204 || statusCode === 304;
    this.resumeRequest = resume;
    const settle = this.settle!;
    this.settle = undefined;
    settle.resolve({ status: statusCode, headers: util.parseHeaders(rawHeaders), body: this });
    return true;
  }

  /** A 101 to a request sent with `upgrade`: the HTTP exchange is complete, and undici hands over its connection. */
  onUpgrade(statusCode: number, rawHeaders: Buffer[], socket: Duplex): void {
    this.ended = true;
    if (!this.settle) return void socket.destroy(); // aborted while the head was on its way
    this.upgraded = socket;
    const settle = this.settle;
    this.settle = undefined;
    settle.resolve({ status: statusCode, headers: util.parseHeaders(rawHeaders), body: this, upgraded: socket });
  }

  onData(chunk: Buffer): boolean {
    // undici's parser repeats the body callback with nothing in it when resumed; written on, each is a write syscall.
    if (chunk.length === 0) return !this.paused;
    if (this.sink) return this.keepFlowing(this.sink.write(chunk));
    if (this.discarding) {
      this.drop(chunk.length);
      return true;
    }
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    return this.keepFlowing(this.heldBytes < HOLD_BYTES);
  }

  /** undici gives HTTP/1.1 trailers raw and HTTP/2 ones as an object; either way most responses have none. */
  onComplete(trailers: string[] | null): void {
    // Typed as undici's handler type has it; at run time raw buffers (HTTP/1.1) or an object (HTTP/2).
    const given = trailers as unknown as Buffer[] | Headers | null;
    this.ended = true;
    if (given && (Array.isArray(given) ? given.length > 0 : Object.keys(given).length > 0)) {
      this.trailers = Array.isArray(given) ? util.parseHeaders(given) : given;
    }
    this.tellHealth(this.endOutcome());
    if (this.sink) this.endSink();
  }

  /** A gRPC response's outcome is in its trailers' grpc-status; any other complete body is a success. */
  private endOutcome(): Outcome {
    const status = this.trailers && grpcStatusOf(this.trailers);
    return status === undefined ? 'ok' : outcomeOfResponse(200, status);
  }

  private endSink(): void {
    if (this.trailers) this.sink!.addTrailers(this.trailers);
    this.sink!.end();
  }

  onError(err: Error): void {
    // A 204 or 304 may carry the Content-Length its 200 would have had (RFC 9110 8.6); undici counts the missing body
    // as a length mismatch after the head. There is no body to lose: the response is complete.
    if (this.bodiless && (err as { code?: string }).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return this.onComplete(null);
    if (this.settle) {
      const settle = this.settle;
      this.settle = undefined;
      settle.reject(err);
      return;
    }
    this.failure = err;
    this.held = [];
    // Cut on purpose (the client left, the body was discarded): nobody is waiting for the rest.
    if (this.reason) return;
    this.tellHealth(classifyError(err));
    if (this.sink) this.fail(err);
  }

  private tellHealth(outcome: Outcome | undefined): void {
    const upstream = this.healthOf;
    if (upstream === undefined) return;
    this.healthOf = undefined;
    if (outcome !== undefined) upstream.report(this.endpoint!, outcome);
  }

  /** Counts bytes read only to be thrown away; past the limit, cutting the connection is cheaper than draining. */
  private drop(bytes: number): void {
    this.discarded += bytes;
    if (this.discarded > DISCARD_BYTES) this.abort(new Error('discarded response body too large to drain'));
  }

  private fail(err: Error): void {
    this.failed?.(err);
  }

  private keepFlowing(flowing: boolean): boolean {
    this.paused = !flowing;
    return flowing;
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeRequest?.();
  }
}
