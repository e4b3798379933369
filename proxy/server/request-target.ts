/**
 * The request target before routing (RFC 9112 §3.2) and Max-Forwards (RFC 9110 §7.6.2). Breakwater answers itself
 * `OPTIONS *` (asterisk-form: a question about the server, not a resource) and an OPTIONS or TRACE whose Max-Forwards
 * is 0 (Breakwater is then its final recipient). An absolute-form target is made origin-form, its authority taking the
 * place of Host (§3.2.2); a Max-Forwards above 0 is decremented on its way upstream.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { requestIdOf } from './headers.js';
import { answerLocally } from './local-answer.js';

/**
 * What Breakwater relays and answers. TRACE is left out: answering it as the final recipient would mean echoing the
 * request, credentials and cookies included, so it gets a 405 instead (RFC 9110 §9.3.8 permits refusing it).
 */
const ALLOW = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const SLASH = 0x2f;

/** Readies the request for routing; true when Breakwater has answered it itself. */
export function answeredAtTarget(req: IncomingMessage, res: ServerResponse, draining: boolean): boolean {
  const url = req.url ?? '/';
  const method = req.method;
  if (url.charCodeAt(0) !== SLASH) {
    if (url === '*') {
      if (method === 'OPTIONS') answer(req, res, draining, 200, { allow: ALLOW });
      else answer(req, res, draining, 400, {}, { error: 'bad request', detail: `the asterisk-form target is for OPTIONS only, not ${method}` });
      return true;
    }
    toOriginForm(req, url);
  }
  if (method !== 'OPTIONS' && method !== 'TRACE') return false;
  const maxForwards = parseMaxForwards(req.headers['max-forwards']);
  if (maxForwards === undefined) return false;
  if (maxForwards > 0) {
    req.headers['max-forwards'] = String(maxForwards - 1);
    return false;
  }
  if (method === 'OPTIONS') answer(req, res, draining, 200, { allow: ALLOW });
  else answer(req, res, draining, 405, { allow: ALLOW }, { error: 'method not allowed', detail: 'TRACE with Max-Forwards: 0 ends at Breakwater, which does not echo requests' });
  return true;
}

/** `http://host:port/path?q` → path `/path?q`, Host `host:port`. Any other target is left for routing to refuse. */
function toOriginForm(req: IncomingMessage, url: string): void {
  const schemeEnd = url.indexOf('://');
  if (schemeEnd === -1) return;
  const scheme = url.slice(0, schemeEnd).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return;
  const authorityStart = schemeEnd + 3;
  let pathStart = authorityStart;
  while (pathStart < url.length && url[pathStart] !== '/' && url[pathStart] !== '?') pathStart++;
  // http(s) URIs carry no userinfo (RFC 9110 §4.2.4); whatever a client put there is not part of the host.
  const at = url.lastIndexOf('@', pathStart - 1);
  const authority = url.slice(at >= authorityStart ? at + 1 : authorityStart, pathStart);
  const path = url.slice(pathStart);
  req.url = path === '' ? '/' : path.charCodeAt(0) === SLASH ? path : `/${path}`;
  if (authority !== '') req.headers.host = authority;
}

/** 1*DIGIT, else undefined: an invalid value is forwarded as it came. */
function parseMaxForwards(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || value === '' || value.length > 9) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  return Number(value);
}

function answer(req: IncomingMessage, res: ServerResponse, draining: boolean, status: number, headers: OutgoingHttpHeaders, payload?: object): void {
  headers['x-breakwater-attempts'] = '0';
  headers['x-request-id'] = requestIdOf(req.headers);
  answerLocally(req, res, status, headers, payload, draining);
}
