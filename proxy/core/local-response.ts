/**
 * A response Breakwater makes in place of the upstream's (a fallback, a fault's abort), with the body its status
 * allows. A 204, 205 or 304 has no content (RFC 9110 §15.3.5, §15.3.6, §15.4.5): HTTP/2 resets a stream that sends
 * any, so none is sent, nor a Content-Length, but a 205's 0.
 */
import type { Headers, UpstreamResponse } from './exchange.js';

const EMPTY = Buffer.alloc(0);

export function hasNoContent(status: number): boolean {
  return status === 204 || status === 205 || status === 304;
}

/** `headers` is taken as the response's own, and its content-length set. */
export function localResponse(status: number, headers: Headers, body: Buffer): UpstreamResponse {
  if (!hasNoContent(status)) {
    headers['content-length'] = String(body.length);
    return { status, headers, body };
  }
  if (status === 205) headers['content-length'] = '0';
  else delete headers['content-length'];
  return { status, headers, body: EMPTY };
}
