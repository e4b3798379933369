import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { BackendContext } from './context.js';
import { adminRoutes } from './routes/admin.js';
import { apiRoutes } from './routes/api.js';
import { probeRoutes } from './routes/probes.js';

/** Builds the HTTP app; routes are plain fastify, all state lives in `ctx`. */
export async function buildApp(ctx: BackendContext, logger: Logger) {
  const app = Fastify({
    loggerInstance: logger,
    // Per-request log lines would swamp benchmarks; metrics and /admin/stats tell the story.
    logController: new LogController({ disableRequestLogging: true }),
    // Hung and delayed requests must not hold shutdown hostage.
    forceCloseConnections: true,
  });

  app.addHook('onRequest', async (_request, reply) => {
    reply.header('x-backend-replica', ctx.replica.name);
  });
  app.addHook('onResponse', async (request, reply) => {
    ctx.metrics.observeResponse(request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  await app.register(async (scope) => apiRoutes(scope, ctx));
  await app.register(async (scope) => adminRoutes(scope, ctx));
  await app.register(async (scope) => probeRoutes(scope, ctx));
  return app;
}
