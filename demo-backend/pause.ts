import type { FastifyReply } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits `ms`, cut short if the client goes away. Returns false when the response is gone, after hijacking the
 * reply so fastify does not try to answer a closed socket.
 */
export async function pause(ms: number, reply: FastifyReply): Promise<boolean> {
  const abandoned = new AbortController();
  const onClose = () => abandoned.abort();
  reply.raw.once('close', onClose);
  try {
    await sleep(ms, undefined, { signal: abandoned.signal });
    return true;
  } catch {
    reply.hijack();
    return false;
  } finally {
    reply.raw.off('close', onClose);
  }
}
