/**
 * Header rules at the proxy boundary (RFC 9110 §7.6.1): connection-specific headers stop here, in both directions,
 * along with any header the Connection field names; x-forwarded-* and x-request-id are added on the way in.
 * Proxy-Authorization is meant for the proxy the client talks to (RFC 9110 §11.7.2), which is this one: it stops here
 * too, so a credential for Breakwater never reaches an upstream.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Headers } from '../policies/exchange.js';

const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'proxy-authorization', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);

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

export interface ForwardContext {
  remoteAddress: string | undefined;
  /** Generated when the client sent none; also echoed on the response. */
  requestId: string;
}

/** Headers to send upstream. Host is left to the endpoint's own authority; the client's is kept in x-forwarded-host. */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, ctx: ForwardContext): Headers {
  const listed = connectionListed(incoming.connection);
  const out: Headers = {};
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || name === 'host' || listed?.has(name)) continue;
    out[name] = incoming[name];
  }
  const forwardedFor = incoming['x-forwarded-for'];
  const client = ctx.remoteAddress ?? 'unknown';
  out['x-forwarded-for'] = forwardedFor ? `${Array.isArray(forwardedFor) ? forwardedFor.join(', ') : forwardedFor}, ${client}` : client;
  out['x-forwarded-proto'] ??= 'http';
  if (incoming.host !== undefined) out['x-forwarded-host'] ??= incoming.host;
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

/** Headers to send back to the client: the upstream's, minus connection-specific ones. */
export function clientResponseHeaders(upstream: Headers): Headers {
  const listed = connectionListed(upstream.connection);
  const out: Headers = {};
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    out[name] = upstream[name];
  }
  return out;
}
