import type { FastifyInstance, FastifyReply } from 'fastify';
import type { BackendContext } from '../context.js';
import { HttpError, integerParam, requiredIntegerParam } from '../http-error.js';
import { pause } from '../pause.js';
import { applyFault } from './fault-reply.js';
import { registerStreamRoutes } from './streams.js';

type Query = Record<string, string | undefined>;

const MAX_SLOW_MS = 10 * 60_000;

/** The /api/* routes: every one is counted on arrival and subject to `hang` and `failNext`. */
export async function apiRoutes(app: FastifyInstance, ctx: BackendContext): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    ctx.stats.arrived(`${request.method} ${request.routeOptions.url}`);
    reply.raw.once('close', () => ctx.stats.closed());
  });
  app.addHook('preHandler', async (_request, reply) => {
    if (await applyFault(ctx.faults.forced(), reply)) return reply;
  });

  app.get('/api/data', async (_request, reply) => {
    if (await applyFault(ctx.faults.forData(), reply)) return reply;
    return { replica: ctx.replica.name, items: [{ id: 1, name: 'anchor' }, { id: 2, name: 'buoy' }] };
  });

  app.get('/api/transient', async (_request, reply) => {
    if (await applyFault(ctx.faults.forTransient(), reply)) return reply;
    return { replica: ctx.replica.name, ok: true };
  });

  app.post('/api/orders', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (key === '' || Array.isArray(key)) throw new HttpError(400, 'header "Idempotency-Key" must be one non-empty value');
    const { order, duplicate } = ctx.orders.place(key, request.body ?? null);
    ctx.metrics.orderPlaced(duplicate);
    return reply.code(duplicate ? 200 : 201).send({ ...order, duplicate, replica: ctx.replica.name });
  });

  app.get<{ Params: { code: string }; Querystring: Query }>('/api/status/:code', async (request, reply) => {
    const status = requiredIntegerParam(request.params, 'code', { min: 200, max: 599 });
    const retryAfter = integerParam(request.query, 'retryAfter', { min: 0, max: 86_400 });
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    return sendStatus(reply, status);
  });

  app.get<{ Querystring: Query }>('/api/slow', async (request, reply) => {
    const ms = requiredIntegerParam(request.query, 'ms', { min: 0, max: MAX_SLOW_MS });
    if (!(await pause(ms, reply))) return reply;
    return { replica: ctx.replica.name, sleptMs: ms };
  });

  await app.register(registerStreamRoutes);
}

function sendStatus(reply: FastifyReply, status: number): FastifyReply {
  reply.code(status);
  // These statuses must not carry a body.
  if (status === 204 || status === 304) return reply.send();
  return reply.send({ status });
}
