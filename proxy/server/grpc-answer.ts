/**
 * What a gRPC caller is told when the answer is Breakwater's own, or when the upstream's answer is not gRPC: always a
 * gRPC status it can read, never an HTTP error page. Before the response head that is a trailers-only response
 * (HTTP 200, content-type application/grpc, grpc-status and grpc-message in the one HEADERS frame that ends the
 * stream); after it, trailers that end the stream the upstream left unfinished.
 */
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse, OutgoingHttpHeaders } from 'node:http2';
import type { Headers } from '../core/exchange.js';

/** gRPC's percent-encoding of grpc-message: printable ASCII but '%' as is, every other UTF-8 byte as %XX. */
export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A trailers-only response; `headers` (x-breakwater-*, x-request-id) is the caller's own object and gets the rest. */
export function answerGrpcLocally(res: ServerResponse | Http2ServerResponse, code: number, message: string, headers: Headers): void {
  headers['content-type'] = 'application/grpc';
  headers['grpc-status'] = String(code);
  headers['grpc-message'] = encodeGrpcMessage(message);
  sendTrailersOnly(res, headers);
}

/** A head that carries the status and ends the call: Breakwater's own, or an upstream's trailers-only response. */
export function sendTrailersOnly(res: ServerResponse | Http2ServerResponse, headers: Headers): void {
  if ('stream' in res) {
    // node:http2's compatibility response would send the head and the end of the stream in two frames, and a gRPC
    // client reads a head without END_STREAM as the start of a response, not as its status.
    const stream = res.stream;
    if (stream.destroyed || stream.headersSent) return;
    stream.respond({ ...(headers as OutgoingHttpHeaders), ':status': 200 }, { endStream: true });
    return;
  }
  res.writeHead(200, headers);
  res.end();
}

/** Ends a response whose head has gone out with a gRPC status in its trailers (the stream was cut upstream). */
export function endGrpcWithStatus(res: ServerResponse | Http2ServerResponse, code: number, message: string): void {
  if (res.writableEnded) return;
  res.addTrailers({ 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) });
  res.end();
}
