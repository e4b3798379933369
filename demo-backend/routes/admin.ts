import type { FastifyInstance } from 'fastify';
import type { BackendContext } from '../context.js';
import { InvalidSettingError, parseFaultsPatch } from '../faults.js';
import type { StatsSnapshot } from '../request-stats.js';

/** Run-time control: read and change faults, read counters, reset to start-up state. */
export async function adminRoutes(app: FastifyInstance, ctx: BackendContext): Promise<void> {
  app.get('/admin/faults', async () => ctx.faults.current);

  app.put('/admin/faults', async (request, reply) => {
    try {
      return ctx.faults.update(parseFaultsPatch(request.body));
    } catch (error) {
      if (!(error instanceof InvalidSettingError)) throw error;
      return reply.code(400).send({ error: error.message, field: error.field });
    }
  });

  app.post('/admin/reset', async () => {
    ctx.stats.reset();
    ctx.orders.reset();
    return ctx.faults.reset();
  });

  app.get('/admin/stats', async (): Promise<StatsSnapshot> => ({
    name: ctx.replica.name,
    requests: { total: ctx.stats.total, byRoute: ctx.stats.byRoute() },
    orders: { accepted: ctx.orders.accepted, duplicates: ctx.orders.duplicates },
    inFlight: ctx.stats.inFlight,
  }));
}
