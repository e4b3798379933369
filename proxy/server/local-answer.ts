import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { hasBody } from './request-body.js';

/**
 * Writes an answer from Breakwater itself (a JSON payload, or none). The content headers are added to `headers`, the
 * caller's own object: no spread on this path, which fast-fail answers take by the thousand. A request body still
 * arriving is not read to its end for a keep-alive that a stalled client would hold open: the connection closes.
 */
export function answerLocally(req: IncomingMessage, res: ServerResponse, status: number, headers: OutgoingHttpHeaders, payload: object | undefined, draining: boolean): void {
  const body = payload === undefined ? '' : JSON.stringify(payload);
  if (payload !== undefined) headers['content-type'] = 'application/json';
  headers['content-length'] = String(Buffer.byteLength(body));
  const unreadBody = !req.complete && hasBody(req);
  // HTTP/2 has no Connection header: its drain is a GOAWAY, and an unread stream is reset when the answer ends it.
  const http1 = req.httpVersionMajor !== 2;
  if (http1 && (draining || unreadBody)) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
  if (http1 && unreadBody) res.socket?.destroySoon();
}
