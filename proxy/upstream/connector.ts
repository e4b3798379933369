/**
 * How an endpoint's pool opens connections. The pool's origin gives the Host header; the socket goes to the
 * endpoint's own address, and, when the upstream uses TLS, verifies the upstream's server name against its CA.
 * An unsolicited 100 (Continue) on its connections is consumed instead of failing the request.
 */
import { isIP } from 'node:net';
import { buildConnector } from 'undici';
import type { UpstreamPolicy } from '../config/policy.js';
import type { EndpointAddress } from '../config/formats.js';
import { consumeUnsolicitedContinue } from './unsolicited-continue.js';

export function endpointConnector(target: EndpointAddress, policy: UpstreamPolicy): buildConnector.connector {
  const tls = policy.tls;
  // An IP address is not a valid SNI name: left out, Node verifies the certificate against the address itself.
  const servername = tls ? (tls.serverName ?? (isIP(target.host) ? undefined : target.host)) : undefined;
  const settings: buildConnector.BuildOptions & { useH2c?: boolean } = {
    timeout: policy.connectTimeoutMs,
    // h2: ALPN offers h2 (and http/1.1, for a server that has no h2); h2c: HTTP/2 from the first byte, no TLS.
    allowH2: policy.protocol === 'h2',
    useH2c: policy.protocol === 'h2c',
    // Explicit, so NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment cannot turn verification off either.
    ...(tls ? { rejectUnauthorized: true, ...(tls.ca === undefined ? {} : { ca: tls.ca }) } : {}),
  };
  // useH2c is in undici's connector, not yet in its types.
  const connect = buildConnector(settings);
  const port = String(target.port);
  // Whatever undici derives from the origin or a request's Host header, the address and the name verified stay these.
  return (options, callback) =>
    connect({ ...options, hostname: target.host, host: target.host, port, servername }, (err, socket) => {
      // undici attaches its parser to the socket in this callback, before it returns.
      if (err) return callback(err, null);
      callback(null, socket);
      if ((socket as { alpnProtocol?: string | false }).alpnProtocol !== 'h2') consumeUnsolicitedContinue(socket);
    });
}
