/**
 * The client's response, which also takes the upstream's interim responses: a 103 Early Hints (RFC 8297) is relayed
 * ahead of the final response; any other 1xx is consumed (a 100 answers an Expect Node's server has already
 * handled with the client itself). Node's server creates it per request (createServer's ServerResponse option), so
 * handing it to the exchange as its InformationalSink costs nothing.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import { Http2ServerResponse } from 'node:http2';
import type { Headers, InformationalSink } from '../core/exchange.js';
import { clientResponseHeaders } from './headers.js';

export class ClientResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> implements InformationalSink {
  informational(status: number, headers: Headers): void {
    // RFC 9110 §15.2: never a 1xx to an HTTP/1.0 client.
    if (this.req.httpVersionMajor === 1 && this.req.httpVersionMinor === 0) return;
    relayEarlyHints(this, status, headers);
  }
}

/** The same for an HTTP/2 client (node:http2's compatibility response). */
export class ClientH2Response extends Http2ServerResponse implements InformationalSink {
  informational(status: number, headers: Headers): void {
    relayEarlyHints(this, status, headers);
  }
}

function relayEarlyHints(res: ServerResponse | Http2ServerResponse, status: number, headers: Headers): void {
  // Never after the final response's head.
  if (status !== 103 || res.headersSent) return;
  try {
    res.writeEarlyHints(clientResponseHeaders(headers) as Record<string, string | string[]>);
  } catch {
    // A Link value Node refuses to write: hints are optional, and the final response still follows.
  }
}
