import type { FastifyReply } from 'fastify';
import type { FaultOutcome } from '../fault-injector.js';
import { pause } from '../pause.js';

/**
 * Carries out an injected fault. Returns true when the fault took over the response (failed, throttled, hung, or
 * the client left during a delay); false when the handler should answer normally.
 */
export async function applyFault(outcome: FaultOutcome, reply: FastifyReply): Promise<boolean> {
  switch (outcome.kind) {
    case 'answer':
      return false;
    case 'hang':
      // Keep the socket open and never write: fastify lets go of the reply, shutdown destroys the connection.
      reply.hijack();
      return true;
    case 'fail':
      await reply.code(outcome.status).send({ error: 'injected failure', status: outcome.status });
      return true;
    case 'throttle':
      await reply
        .code(429)
        .header('retry-after', String(outcome.retryAfterSeconds))
        .send({ error: 'injected throttling', retryAfter: outcome.retryAfterSeconds });
      return true;
    case 'delay':
      return !(await pause(outcome.ms, reply));
  }
}
