// Ports for servers that cannot report an OS-assigned port back (nginx, HAProxy, refused-connection targets).
import { createServer } from 'node:net';

/** Asks the OS for a free port on `host`; the caller binds it right away, so the race window is tiny. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the bound port'));
      });
    });
  });
}
