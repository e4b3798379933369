// Where a gRPC load goes, written like the HTTP load's URL so the runner builds both alike:
// `http://HOST:PORT/package.Service/Method`, or several `HOST:PORT` joined by commas (every replica of a backend,
// which a client balancing on its own side, like a headless Service's DNS answer, gets). A HOST without a port is
// port 80, as in an http URL (grpc-js itself would dial 443).

export interface GrpcTarget {
  /** The channel target grpc-js dials: `HOST:PORT`, or `ipv4:A:P,B:P` for several addresses. */
  channel: string;
  /** The method's path on the wire: `/package.Service/Method`. */
  path: string;
  /** The service's full name (`package.Service`), which the app arm's service config names. */
  service: string;
  addresses: string[];
}

const TARGET = /^(?:http|grpc):\/\/([^/]+)\/([A-Za-z_][\w.]*)\/([A-Za-z_]\w*)$/;
const ADDRESS = /^[^,:/]+(:\d{1,5})?$/;

export function parseGrpcTarget(url: string): GrpcTarget {
  const match = TARGET.exec(url);
  if (!match) throw new Error(`load: a gRPC url is http://HOST:PORT[,HOST:PORT...]/package.Service/Method, got ${JSON.stringify(url)}`);
  const given = match[1]!.split(',');
  const bad = given.find((a) => !ADDRESS.test(a));
  if (bad !== undefined) throw new Error(`load: ${JSON.stringify(bad)} in ${JSON.stringify(url)} is not HOST or HOST:PORT`);
  const addresses = given.map((a) => (a.includes(':') ? a : `${a}:80`));
  return {
    channel: addresses.length === 1 ? addresses[0]! : `ipv4:${addresses.join(',')}`,
    path: `/${match[2]}/${match[3]}`,
    service: match[2]!,
    addresses,
  };
}
