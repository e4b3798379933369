import { connect } from 'node:net';

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
