import type { IncomingHttpHeaders } from 'node:http';

/**
 * The authority a request names: its Host, or in HTTP/2, where clients send it as the :authority pseudo-header
 * instead (RFC 9113 §8.3.1), that. Host first, as an HTTP/2 request carrying both must give the same one.
 */
export function requestAuthority(headers: IncomingHttpHeaders): string | undefined {
  return headers.host ?? (headers[':authority'] as string | undefined);
}
