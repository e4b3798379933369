/**
 * The client's response, which also takes the upstream's interim responses: a 103 Early Hints (RFC 8297) is relayed
 * ahead of the final response; any other 1xx is consumed (a 100 answers an Expect Node's server has already
 * handled with the client itself). Node's server creates it per request (createServer's ServerResponse option), so
 * handing it to the exchange as its InformationalSink costs nothing.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Headers, InformationalSink } from '../core/exchange.js';
import { clientResponseHeaders } from './headers.js';

export class ClientResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> implements InformationalSink {
  informational(status: number, headers: Headers): void {
    // RFC 9110 §15.2: never a 1xx to an HTTP/1.0 client, nor after the final response's head.
    if (status !== 103 || this.headersSent || (this.req.httpVersionMajor === 1 && this.req.httpVersionMinor === 0)) return;
    try {
      this.writeEarlyHints(clientResponseHeaders(headers) as Record<string, string | string[]>);
    } catch {
      // A Link value Node refuses to write: hints are optional, and the final response still follows.
    }
  }
}
