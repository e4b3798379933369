/**
 * undici's HTTP/1.1 parser takes any 100 (Continue) for a broken response: it destroys the connection and the request
 * fails with UND_ERR_SOCKET "bad response", which Breakwater counted as a reset (a 502, a retry, an endpoint failure).
 * undici never sends Expect: 100-continue (Breakwater strips it), so every 100 it receives is unsolicited, and RFC 9110
 * §15.2 asks a client to parse such a 1xx and lets it ignore it. This makes undici handle a 100 the way it handles
 * any other 1xx, less telling the request's handler: the 100 is consumed and the final response follows on the same
 * connection. undici keeps its parser class private, so it is patched once, reached through the first connection.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

const require = createRequire(import.meta.url);
const { kParser, kQueue, kRunning, kRunningIdx } = require('undici/lib/core/symbols.js') as Record<string, symbol>;

/** The part of undici's HTTP/1.1 parser (lib/dispatcher/client-h1.js) this relies on. */
interface H1Parser {
  client: Record<symbol, unknown>;
  socket: Socket;
  statusCode: number | null;
  headers: Buffer[];
  headersSize: number;
  timeout: { refresh?: () => void } | null;
  onHeadersComplete(statusCode: number, upgrade: boolean, shouldKeepAlive: boolean): number;
}

let patched = false;

/** Called with each new upstream connection once undici has attached its parser; patches the parser class once. */
export function consumeUnsolicitedContinue(socket: Socket): void {
  if (patched) return;
  const parser = (socket as unknown as Record<symbol, H1Parser | undefined>)[kParser];
  if (typeof parser?.onHeadersComplete !== 'function') return; // HTTP/2: undici's parser is not involved
  patched = true;
  const parserClass = Object.getPrototypeOf(parser) as H1Parser;
  const onHeadersComplete = parserClass.onHeadersComplete;
  parserClass.onHeadersComplete = function (this: H1Parser, statusCode, upgrade, shouldKeepAlive) {
    // With no request in flight a 100 answers nothing: undici's own handling (the connection is closed) stands.
    const client = this.client;
    if (statusCode !== 100 || upgrade || this.socket.destroyed || client[kRunning] === 0 || !(client[kQueue] as unknown[])[client[kRunningIdx] as number]) {
      return onHeadersComplete.call(this, statusCode, upgrade, shouldKeepAlive);
    }
    // What undici does for any other 1xx: the head is dropped, the headers timer restarts, and no body follows (1).
    this.statusCode = statusCode;
    this.headers = [];
    this.headersSize = 0;
    this.timeout?.refresh?.();
    return 1;
  };
}
