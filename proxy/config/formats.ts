/**
 * The string formats the policy schema names (`format: duration` and the like): how each is checked, and how a
 * failure is explained. The generated validator (generated/policy-validator.js) calls these same predicates.
 */
import { isIPv6 } from 'node:net';
import { DURATION, DURATION_HINT, parseDuration, POSITIVE_DURATION, POSITIVE_DURATION_HINT } from './duration.js';
import type { HostPort } from './policy.js';
import { parseSize, SIZE } from './size.js';

const ENDPOINT = /^(?:(https?):\/\/)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** An upstream endpoint as written ("host:port", "[v6]:port", "http(s)://host:port") or discovered ("ip:port"). */
export interface EndpointAddress {
  /** Only when written: whether the upstream uses TLS is decided per upstream (see upstream-tls.ts). */
  scheme: 'http' | 'https' | undefined;
  /** Without brackets: what a socket connects to. */
  host: string;
  port: number;
  /** "host:port" as in a URL, IPv6 in brackets. */
  authority: string;
}

export function parseEndpoint(text: string): EndpointAddress | undefined {
  const m = ENDPOINT.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  const host = unbracketed(m[2]!);
  if (port < 1 || port > 65535 || host === undefined) return undefined;
  return { scheme: m[1] as EndpointAddress['scheme'], host, port, authority: `${m[2]}:${m[3]}` };
}

/** A host as written: brackets hold an IPv6 address and nothing else (`[1.2.3.4]` is no address a URL can hold). */
function unbracketed(host: string): string | undefined {
  if (!host.startsWith('[')) return host;
  const inner = host.slice(1, -1);
  return isIPv6(inner) ? inner : undefined;
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/;

export function parseHostPort(text: string): HostPort | undefined {
  const match = HOST_PORT.exec(text);
  if (!match) return undefined;
  const port = Number(match[2]);
  const host = unbracketed(match[1]!);
  if (port > 65535 || host === undefined) return undefined;
  return { host: host || '0.0.0.0', port, text };
}

const AUTHORITY = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/;
const PERCENTILE = /^p(\d{1,2}(?:\.\d+)?)$/;

/** A latency percentile as written for hedge.delay ("p95", "p99.9") as a number (95, 99.9); undefined when not one. */
export function parsePercentile(text: string): number | undefined {
  const match = PERCENTILE.exec(text);
  const value = match ? Number(match[1]) : 0;
  return value > 0 && value < 100 ? value : undefined;
}

export const policyFormats = {
  duration: (s: string): boolean => parseDuration(s) !== undefined,
  positiveDuration: (s: string): boolean => (parseDuration(s) ?? 0) > 0,
  size: (s: string): boolean => parseSize(s) !== undefined,
  address: (s: string): boolean => parseHostPort(s) !== undefined,
  endpoint: (s: string): boolean => parseEndpoint(s) !== undefined,
  authority: (s: string): boolean => {
    const m = AUTHORITY.exec(s);
    return m !== null && unbracketed(m[1]!) !== undefined && (m[2] === undefined || (Number(m[2]) > 0 && Number(m[2]) <= 65535));
  },
  durationOrPercentile: (s: string): boolean => parseDuration(s) !== undefined || parsePercentile(s) !== undefined,
};

/**
 * Each format as a JSON Schema pattern, for the published schema: editors know no custom formats, but check patterns.
 * A pattern is the format's shape only (a port above 65535 passes it); `breakwater validate` checks the rest.
 */
export const FORMAT_PATTERNS: Record<keyof typeof policyFormats, string> = {
  duration: DURATION.source,
  positiveDuration: POSITIVE_DURATION.source,
  size: SIZE.source,
  address: HOST_PORT.source,
  endpoint: ENDPOINT.source,
  authority: AUTHORITY.source,
  durationOrPercentile: `${DURATION.source}|${PERCENTILE.source}`,
};

export const FORMAT_HINTS: Record<keyof typeof policyFormats, string> = {
  duration: DURATION_HINT,
  positiveDuration: POSITIVE_DURATION_HINT,
  durationOrPercentile: 'must be a duration such as 50ms or a latency percentile such as p95 or p99.9',
  size: 'must be a size in bytes or such as 64KiB, 1MiB',
  address: 'must be host:port, such as 127.0.0.1:15001',
  endpoint: 'must be host:port or http(s)://host:port with a port from 1 to 65535',
  authority: 'must be a host name with an optional :port, such as api.internal or api.internal:8080',
};
