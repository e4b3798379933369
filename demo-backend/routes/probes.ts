import type { FastifyInstance } from 'fastify';
import type { BackendContext } from '../context.js';

/** Liveness, readiness and Prometheus scrape. */
export async function probeRoutes(app: FastifyInstance, ctx: BackendContext): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const waitMs = ctx.readyAt - Date.now();
    if (waitMs > 0) return reply.code(503).send({ status: 'warming up', readyInMs: waitMs });
    return { status: 'ready' };
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
}
