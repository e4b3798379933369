/**
 * Header rules at the proxy boundary (RFC 9110 §7.6.1): connection-specific headers stop here, in both directions,
 * along with any header the Connection field names; Via is appended in both directions (§7.6.3); x-forwarded-* and
 * x-request-id are set on the way in. Proxy-Authorization is meant for the proxy the client talks to (RFC 9110
 * §11.7.2), which is this one: it stops here too, so a credential for Breakwater never reaches an upstream.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Headers } from '../core/exchange.js';
import { requestAuthority } from '../core/request-authority.js';

const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'proxy-authorization', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);
/** Set by Breakwater alone unless the listener trusts its clients to have set them (a proxy in front of it). */
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);
/** RFC 9110 §7.6.3: the protocol version the message was received with, and who received it. */
const VIA_HTTP_11 = '1.1 breakwater';
const VIA_HTTP_10 = '1.0 breakwater';
const VIA_HTTP_2 = '2 breakwater';
/** HTTP/2's pseudo-headers (":path", ":authority"...) describe this hop's message; each side writes its own. */
const COLON = 58;

function connectionListed(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const text = (Array.isArray(value) ? value.join(',') : value).toLowerCase();
  // Almost every upstream response says "keep-alive", which names no header: no split for it.
  if (text === 'keep-alive' || text === 'close') return undefined;
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '' && n !== 'close' && n !== 'keep-alive');
  return names.length > 0 ? new Set(names) : undefined;
}

/** Appends one element to a comma-separated list field (Via, x-forwarded-for), however it arrived. */
function appendToList(existing: string | string[] | undefined, value: string): string {
  if (existing === undefined || existing === '') return value;
  return `${Array.isArray(existing) ? existing.join(', ') : existing}, ${value}`;
}

export interface ForwardContext {
  remoteAddress: string | undefined;
  /** Generated when the client sent none; also echoed on the response. */
  requestId: string;
  /** The client's request version ("1.1", "1.0"), for Via. */
  httpVersion: string;
  /** The client is a proxy that sets x-forwarded-* itself: its values are kept, x-forwarded-for appended to. */
  trustForwarded: boolean;
}

/** Headers to send upstream. Host is left to the endpoint's own authority; the client's is kept in x-forwarded-host. */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, ctx: ForwardContext): Headers {
  const listed = connectionListed(incoming.connection);
  const trusted = ctx.trustForwarded;
  const out: Headers = {};
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || name === 'host' || name.charCodeAt(0) === COLON || listed?.has(name) || (!trusted && FORWARDED.has(name))) continue;
    out[name] = incoming[name];
  }
  const client = ctx.remoteAddress ?? 'unknown';
  out['x-forwarded-for'] = trusted ? appendToList(out['x-forwarded-for'], client) : client;
  out['x-forwarded-proto'] ??= 'http';
  const host = requestAuthority(incoming);
  if (host !== undefined) out['x-forwarded-host'] ??= host;
  out.via = appendToList(out.via, ctx.httpVersion === '1.0' ? VIA_HTTP_10 : ctx.httpVersion === '2.0' ? VIA_HTTP_2 : VIA_HTTP_11);
  out['x-request-id'] = ctx.requestId;
  return out;
}

/**
 * Node keeps the first of two Host headers and drops the other, so which authority the request meant is ambiguous
 * (RFC 9112 §3.2: answer 400); only the raw list shows both.
 */
export function hasDuplicateHost(rawHeaders: readonly string[]): boolean {
  let hosts = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host' && ++hosts > 1) return true;
  }
  return false;
}

export function requestIdOf(incoming: IncomingHttpHeaders): string {
  const given = incoming['x-request-id'];
  return typeof given === 'string' && given !== '' && given.length <= 200 ? given : randomUUID();
}

/**
 * Headers to send back to the client: the upstream's, minus connection-specific ones, Via appended with the version
 * the upstream answered in (`viaVersion`: "1.1" or "2"); none when Breakwater produced the response itself (a
 * fallback, an injected fault) and is its origin.
 */
export function clientResponseHeaders(upstream: Headers, viaVersion?: '1.1' | '2'): Headers {
  const listed = connectionListed(upstream.connection);
  const out: Headers = {};
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) || name.charCodeAt(0) === COLON || listed?.has(name)) continue;
    out[name] = upstream[name];
  }
  if (viaVersion !== undefined) out.via = appendToList(out.via, viaVersion === '2' ? VIA_HTTP_2 : VIA_HTTP_11);
  return out;
}
