import { connect, type Socket } from 'node:net';

/**
 * Sends raw bytes and reads until the server closes the connection (bounded): for what HTTP clients refuse to send,
 * such as custom Connection tokens or malformed heads.
 */
export function rawExchange(url: string, request: string | Buffer): Promise<string> {
  const { port } = new URL(url);
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error(`no complete answer within 5 s; got: ${data}`));
    });
  });
}

export interface RawConnection {
  socket: Socket;
  /** Every byte the server has sent so far. */
  received(): Buffer;
  /** Settles when the server's side has closed (or the socket failed): when, and what arrived. */
  closed: Promise<{ at: number; data: Buffer }>;
  /** Waits (bounded) until what has arrived satisfies `done`. */
  waitFor(done: (data: Buffer) => boolean, timeoutMs: number, what: string): Promise<Buffer>;
}

/** A raw connection kept open, for writing requests piece by piece and watching how and when the server answers. */
export function openConnection(url: string): Promise<RawConnection> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const listeners = new Set<() => void>();
    const received = () => Buffer.concat(chunks);
    const closed = new Promise<{ at: number; data: Buffer }>((settle) => socket.once('close', () => settle({ at: Date.now(), data: received() })));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      for (const listener of listeners) listener();
    });
    socket.on('error', () => {}); // a reset is seen as 'close'; the test asserts on what arrived
    socket.once('close', () => {
      for (const listener of listeners) listener();
    });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve({
        socket,
        received,
        closed,
        waitFor: (done, timeoutMs, what) =>
          new Promise((settle, fail) => {
            const check = () => {
              const data = received();
              if (done(data)) finish(() => settle(data));
              else if (socket.destroyed) finish(() => fail(new Error(`connection closed before ${what}; got: ${data.toString('latin1').slice(0, 300)}`)));
            };
            const timer = setTimeout(
              () => finish(() => fail(new Error(`no ${what} within ${timeoutMs} ms; got: ${received().toString('latin1').slice(0, 300)}`))),
              timeoutMs,
            );
            const finish = (then: () => void) => {
              clearTimeout(timer);
              listeners.delete(check);
              then();
            };
            listeners.add(check);
            check();
          }),
      });
    });
    socket.once('error', reject);
  });
}
