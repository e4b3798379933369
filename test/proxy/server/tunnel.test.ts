import type { EventEmitter } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import t from 'tap';
import * as ws from 'ws';
import { Tunnel, type TunnelEnd } from '../../../proxy/server/tunnel.js';
import { within } from '../../helpers/wait-for.js';

const { Sender, Receiver } = ws as unknown as {
  Sender: { frame(data: Buffer, options: { fin: boolean; mask: boolean; opcode: number; readOnly: boolean; rsv1: boolean }): Buffer[] };
  Receiver: new (options: { isServer: boolean }) => EventEmitter & { write(chunk: Buffer): boolean };
};

/** Two ends of one loopback TCP connection. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const near = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const far = await accepted;
  server.close();
  return [near, far];
}

/** A tunnel between two peers: what the client peer and the upstream peer send and receive. */
async function tunnelled(protocol: string) {
  const [clientPeer, clientSide] = await socketPair();
  const [upstreamSide, upstreamPeer] = await socketPair();
  const ends: TunnelEnd[] = [];
  const tunnel = new Tunnel(clientSide, upstreamSide, Buffer.alloc(0), { protocol, idleTimeoutMs: 60_000, ended: (how) => ends.push(how) });
  const received = (peer: Socket) => {
    const chunks: Buffer[] = [];
    peer.on('data', (chunk: Buffer) => chunks.push(chunk));
    peer.on('error', () => undefined);
    return {
      bytes: () => Buffer.concat(chunks),
      closed: within(new Promise<Buffer>((resolve) => peer.once('close', () => resolve(Buffer.concat(chunks)))), 5000, 'the peer connection to close'),
    };
  };
  return { tunnel, ends, clientPeer, upstreamPeer, clientSide, upstreamSide, atClient: received(clientPeer), atUpstream: received(upstreamPeer) };
}

/** What ws makes of the bytes one peer received: its messages' sizes, then the close code and reason. */
function read(bytes: Buffer, isServer: boolean): { messages: number[]; close?: { code: number; reason: string } } {
  const out: { messages: number[]; close?: { code: number; reason: string } } = { messages: [] };
  const receiver = new Receiver({ isServer });
  receiver.on('message', (data: Buffer) => out.messages.push(data.length));
  receiver.on('conclude', (code: number, reason: Buffer) => (out.close = { code, reason: reason.toString() }));
  receiver.on('error', () => undefined);
  receiver.write(bytes);
  return out;
}

const frame = (size: number, mask: boolean) => Buffer.concat(Sender.frame(Buffer.alloc(size, 1), { fin: true, mask, opcode: 2, readOnly: false, rsv1: false }));

async function until(what: string, condition: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

t.test('a websocket tunnel closed mid-frame lets that frame finish, then sends going away both ways', async (t) => {
  const { tunnel, ends, clientPeer, upstreamPeer, atClient, atUpstream } = await tunnelled('websocket');
  const first = frame(100_000, false);
  const half = 50_000;
  upstreamPeer.write(first.subarray(0, half));
  await until('half the frame to reach the client', () => atClient.bytes().length === half);

  tunnel.close('drain');
  upstreamPeer.write(Buffer.concat([first.subarray(half), frame(10, false)]));
  const toClient = read(await atClient.closed, false);
  t.same(toClient, { messages: [100_000], close: { code: 1001, reason: 'going away' } }, 'the client got the whole frame, then the close, and nothing after it');
  const toUpstream = read(await atUpstream.closed, true);
  t.same(toUpstream, { messages: [], close: { code: 1001, reason: 'going away' } }, 'the upstream got a masked close');
  await until('the tunnel to end', () => ends.length > 0);
  t.same(ends, ['drain'], 'ended once, as a drain');
  clientPeer.destroy();
  upstreamPeer.destroy();
});

t.test('a closing handshake the client begins passes through, and the tunnel ends once, as closed by the client', async (t) => {
  const { ends, clientPeer, upstreamPeer, atClient, atUpstream } = await tunnelled('websocket');
  clientPeer.write(Buffer.concat([frame(20, true), Buffer.concat(Sender.frame(Buffer.from([0x03, 0xe8]), { fin: true, mask: true, opcode: 8, readOnly: false, rsv1: false }))]));
  await until('the close frame to reach the upstream', () => read(atUpstream.bytes(), true).close !== undefined);
  // The upstream answers as a server does: its own close frame, then the end of the TCP connection.
  upstreamPeer.end(Buffer.concat(Sender.frame(Buffer.from([0x03, 0xe8]), { fin: true, mask: false, opcode: 8, readOnly: false, rsv1: false })));
  t.same(read(await atClient.closed, false).close, { code: 1000, reason: '' }, "the client got the upstream's close");
  await atUpstream.closed;
  await until('the tunnel to end', () => ends.length > 0);
  t.same(ends, ['client-closed']);
});

t.test('another protocol is just ended; a failing side ends the tunnel once', async (t) => {
  const closedByProxy = await tunnelled('irc');
  closedByProxy.clientPeer.write('hello');
  await until('bytes to pass', () => closedByProxy.atUpstream.bytes().toString() === 'hello');
  closedByProxy.tunnel.close('idle-timeout');
  t.equal((await closedByProxy.atClient.closed).length, 0, 'no frame of any kind is sent');
  await closedByProxy.atUpstream.closed;
  await until('the tunnel to end', () => closedByProxy.ends.length > 0);
  t.same(closedByProxy.ends, ['idle-timeout']);

  const failed = await tunnelled('websocket');
  failed.clientPeer.resetAndDestroy();
  await failed.atUpstream.closed;
  await until('the tunnel to end', () => failed.ends.length > 0);
  t.ok(['client-error', 'client-closed'].includes(failed.ends[0]!), `ended as the client's doing (${failed.ends[0]})`);
  t.equal(failed.ends.length, 1, 'once');
});

t.test("a side that does not read holds the other back: the proxy buffers no more than a socket's worth", async (t) => {
  const { clientPeer, upstreamPeer, clientSide, upstreamSide, atUpstream } = await tunnelled('irc');
  upstreamPeer.pause();
  const chunk = Buffer.alloc(64 * 1024, 1);
  const totalBytes = 64 * 1024 * 1024;
  let sent = 0;
  let mostHeld = 0;
  // Write until the client's own socket stays refused for a while: the kernel buffers on the way are full, and the
  // tunnel has stopped reading the client instead of holding what the upstream does not take.
  while (sent < totalBytes) {
    sent += chunk.length;
    mostHeld = Math.max(mostHeld, upstreamSide.writableLength + clientSide.readableLength);
    if (!clientPeer.write(chunk)) {
      const drained = await Promise.race([
        new Promise<boolean>((resolve) => clientPeer.once('drain', () => resolve(true))),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 300)),
      ]);
      if (!drained) break;
    }
  }
  mostHeld = Math.max(mostHeld, upstreamSide.writableLength + clientSide.readableLength);
  t.ok(sent < totalBytes, `the client was held back after ${sent} of ${totalBytes} bytes`);
  t.ok(mostHeld <= 1024 * 1024, `the proxy held at most ${mostHeld} bytes in its own buffers`);
  upstreamPeer.resume();
  await until('every byte sent to reach the upstream', () => atUpstream.bytes().length >= sent);
  t.equal(atUpstream.bytes().length, sent, 'nothing lost once it reads again');
  clientPeer.destroy();
  upstreamPeer.destroy();
});
