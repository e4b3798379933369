// Readiness for servers that print nothing when they are up (nginx, HAProxy): poll a TCP connect.
import { connect } from 'node:net';
import type { StartedProcess } from './children.js';

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForPort(host: string, port: number, owner: StartedProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await canConnect(host, port))) {
    if (owner.hasExited()) {
      await owner.ended;
      throw new Error(`${owner.name} exited before listening on ${host}:${port}; output:\n${owner.output()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${owner.name} not listening on ${host}:${port} within ${timeoutMs} ms; output:\n${owner.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
