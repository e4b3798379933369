/**
 * One port, two protocols: HTTP/1.1 and HTTP/2 with prior knowledge (what gRPC clients send), told apart by the
 * first bytes of each connection. A client speaking HTTP/2 opens with the 24-byte connection preface (RFC 9113 §3.4),
 * which no HTTP/1.1 request line can begin with, so the first read decides; only a read shorter than the preface that
 * matches it so far waits for more. The socket then goes to node:http or node:http2 as if it had connected there.
 */
import { createServer, type Server, type Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export type WireProtocol = 'http1' | 'h2c';

export interface ProtocolHandlers {
  /** A connection speaking HTTP/1.x, with the bytes already read from it. */
  http1(socket: Socket, head: Buffer): void;
  /** A connection that opened with the HTTP/2 preface; its bytes are back in the socket for node:http2 to read. */
  h2c(socket: Socket): void;
  /** A connection that sent nothing within the first-byte timeout. */
  silent(socket: Socket): void;
}

export interface FrontSettings {
  /** false: HTTP/1.1 only, each connection handed over at once without a read (`http2.enabled: false`). */
  h2c: boolean;
  /** How long a connection may stay silent before its first byte (the listener's headersTimeout). */
  firstByteTimeoutMs: number;
}

/** The listening socket; `settings` is read per connection, so a reload applies to connections accepted after it. */
export function protocolFront(handlers: ProtocolHandlers, settings: () => FrontSettings): Server {
  return createServer({ noDelay: true }, (socket) => {
    const { h2c, firstByteTimeoutMs } = settings();
    if (!h2c) return handlers.http1(socket, EMPTY);
    sniff(socket, handlers, firstByteTimeoutMs);
  });
}

const EMPTY: Buffer = Buffer.alloc(0);

function sniff(socket: Socket, handlers: ProtocolHandlers, firstByteTimeoutMs: number): void {
  let seen: Buffer = EMPTY;
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const compared = Math.min(seen.length, PREFACE.length);
    const prefaceSoFar = seen.compare(PREFACE, 0, compared, 0, compared) === 0;
    if (prefaceSoFar && seen.length < PREFACE.length) return; // "PRI * HT…" so far: the next read decides
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('timeout', onSilent);
    socket.setTimeout(0);
    if (prefaceSoFar) {
      socket.pause();
      socket.unshift(seen);
      handlers.h2c(socket);
    } else {
      // node:http reads the socket's handle directly once it has it: the bytes read here are handed over by hand.
      handlers.http1(socket, seen);
    }
  };
  // A client that connects and leaves before its first byte: nothing to answer.
  const onError = () => socket.destroy();
  const onSilent = () => {
    socket.off('data', onData);
    socket.off('error', onError);
    handlers.silent(socket);
  };
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('timeout', onSilent);
  socket.setTimeout(firstByteTimeoutMs);
}
