import { pino } from 'pino';
import { buildApp } from './app.js';
import type { BackendConfig } from './config.js';
import type { BackendContext } from './context.js';
import { FaultInjector } from './fault-injector.js';
import { createMetrics } from './metrics.js';
import { OrderBook } from './orders.js';
import { RequestStats } from './request-stats.js';

/** Starts the backend, logs the one "listening" line parents wait for, and exits 0 on SIGTERM/SIGINT. */
export async function serve(config: BackendConfig): Promise<void> {
  const logger = pino({ level: config.logLevel });
  const stats = new RequestStats();
  const ctx: BackendContext = {
    replica: { name: config.name ?? '' },
    faults: new FaultInjector(config.faults),
    stats,
    orders: new OrderBook(),
    metrics: createMetrics(() => stats.inFlight),
    readyAt: Date.now() + config.readyDelayMs,
  };

  // fastify logs its own "Server listening at" at info; keep it quiet so "listening" below is the only such line.
  const quietLevel = logger.levelVal < logger.levels.values.warn! ? 'warn' : config.logLevel;
  const app = await buildApp(ctx, logger.child({}, { level: quietLevel }));
  if (config.grpc) {
    // Loaded only when asked for, so the HTTP-only backend does not carry grpc-js.
    const [{ demoGrpcServer }, { shareWithGrpc }] = await Promise.all([import('./grpc/service.js'), import('./grpc/grpc-listener.js')]);
    const stopGrpc = shareWithGrpc(app.server, demoGrpcServer(ctx));
    app.addHook('preClose', async () => stopGrpc());
  }
  await app.listen({ host: config.host, port: config.port });

  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  ctx.replica.name = config.name ?? `backend-${port}`;
  const urlHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  logger.info(
    {
      port,
      url: `http://${urlHost}:${port}`,
      name: ctx.replica.name,
      seed: config.faults.seed,
      faults: config.faults,
      readyDelayMs: config.readyDelayMs,
      grpc: config.grpc,
    },
    'listening',
  );

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down');
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
