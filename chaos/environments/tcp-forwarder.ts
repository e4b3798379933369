// A loopback TCP forwarder: the shared core of the service balancer (picks a replica per connection) and the
// blackhole relay (one replica, traffic passed, dropped or delayed).
import net from 'node:net';

export interface ForwarderOptions {
  /** The replica address ("127.0.0.1:PORT") for a new connection; undefined = nowhere to go, reset it. */
  pickTarget: () => string | undefined;
  /** Forwards one chunk now, later, or never. Default: now. */
  gate?: (forward: () => void) => void;
}

export class TcpForwarder {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly options: ForwarderOptions) {
    this.server = net.createServer((client) => this.accept(client));
  }

  /** `host`: loopback, or the host's address on the mini-cluster's pod network. */
  async listen(host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, host, () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return `${host}:${this.port}`;
  }

  private accept(client: net.Socket): void {
    const target = this.options.pickTarget();
    if (!target) {
      // What a ClusterIP with no ready endpoints does: the connection is refused.
      client.resetAndDestroy();
      return;
    }
    const [host, port] = splitAddress(target);
    // No Nagle delay on either leg, as a kernel DNAT adds none: HTTP/2's small frames would otherwise wait for ACKs.
    const upstream = net.connect({ host, port, noDelay: true });
    client.setNoDelay(true);
    this.track(client);
    this.track(upstream);
    const gate = this.options.gate ?? ((forward: () => void) => forward());
    const relay = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk) => gate(() => to.destroyed || to.write(chunk)));
      from.on('end', () => gate(() => to.destroyed || to.end()));
    };
    relay(client, upstream);
    relay(upstream, client);
    // A failure on either side resets the other, as a broken path would.
    client.on('error', () => upstream.resetAndDestroy());
    upstream.on('error', () => client.resetAndDestroy());
    // A close travels like data: after what was sent before it (a delayed response must not be cut short).
    client.on('close', () => gate(() => upstream.destroy()));
    upstream.on('close', () => gate(() => client.destroy()));
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Stops accepting and cuts every open connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}
