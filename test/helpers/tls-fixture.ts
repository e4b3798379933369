/**
 * Test certificates made with the openssl CLI in a fresh temp folder: a CA, a server certificate it signs for the given
 * DNS names, and an unrelated second CA. Plus an HTTPS server on loopback that records what each request arrived with.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

export interface TestCertificates {
  dir: string;
  caFile: string;
  otherCaFile: string;
  key: string;
  cert: string;
  remove(): void;
}

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
}

export function makeCertificates(dnsNames: string[]): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'breakwater-tls-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  openssl(dir, ['req', ...EC_KEY, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${dnsNames[0]}`]);
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=${dnsNames.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem']);
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface SeenRequest {
  /** The SNI name the client sent, or false for none. */
  servername: string | false;
  host: string | undefined;
}

export interface HttpsBackend {
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** An HTTPS server on 127.0.0.1 answering 200 to everything; `seen` lists each request's SNI name and Host. */
export async function startHttpsBackend(certs: TestCertificates): Promise<HttpsBackend> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
    seen.push({ servername: (req.socket as TLSSocket).servername || false, host: req.headers.host });
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
