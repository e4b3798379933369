/**
 * Whether an upstream speaks TLS is decided once, for all its endpoints, static or discovered: a `tls` block or an
 * https:// endpoint means TLS to every endpoint, always verified. A file that says both (an http:// endpoint beside
 * either) is refused rather than half-honoured, so plaintext is never sent where TLS was asked for.
 */
import { isIP } from 'node:net';
import type { CaFiles } from './ca-file.js';
import { parseEndpoint } from './formats.js';
import type { UpstreamPolicy } from './policy.js';
import type { UpstreamFile } from './generated/policy-types.js';

interface Problem {
  path: (string | number)[];
  message: string;
}

export function upstreamTlsProblems(u: UpstreamFile, at: (string | number)[], caFiles: CaFiles): Problem[] {
  const problems: Problem[] = [];
  const endpoints = u.endpoints ?? [];
  const https = endpoints.find((e) => parseEndpoint(e)?.scheme === 'https');
  endpoints.forEach((endpoint, index) => {
    if (parseEndpoint(endpoint)?.scheme !== 'http') return;
    const path = [...at, 'endpoints', index];
    if (https !== undefined) {
      problems.push({ path, message: `http:// beside the https:// endpoint ${https}: all endpoints of an upstream use TLS, or none does` });
    } else if (u.tls !== undefined) {
      problems.push({ path, message: 'http:// in an upstream with a tls block: TLS goes to every endpoint; write host:port or https://' });
    }
  });
  if (u.tls?.serverName !== undefined && isIP(u.tls.serverName)) {
    problems.push({ path: [...at, 'tls', 'serverName'], message: 'must be a host name; an endpoint given by IP address is verified against that address' });
  }
  if (u.tls?.caFile !== undefined) {
    const ca = caFiles.get(u.tls.caFile);
    if ('problem' in ca) problems.push({ path: [...at, 'tls', 'caFile'], message: ca.problem });
  }
  return problems;
}

/** Whether the upstream speaks TLS: a tls block or an https:// endpoint. */
export function speaksTls(u: UpstreamFile): boolean {
  return u.tls !== undefined || (u.endpoints?.some((e) => parseEndpoint(e)?.scheme === 'https') ?? false);
}

/** The upstream's TLS settings, or undefined for plaintext; call only on an upstream without TLS problems. */
export function upstreamTls(u: UpstreamFile, caFiles: CaFiles): UpstreamPolicy['tls'] {
  if (!speaksTls(u)) return undefined;
  const ca = u.tls?.caFile === undefined ? undefined : caFiles.get(u.tls.caFile);
  return {
    serverName: u.tls?.serverName ?? u.dns?.name,
    ...(ca && 'pem' in ca ? { ca: ca.pem } : {}),
  };
}
