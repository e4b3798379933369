/**
 * The admin server (fastify). Read-only endpoints may face the pod network for probes and scraping; anything that
 * changes state answers loopback clients only. /config never shows secrets, and to callers from outside the pod
 * shows no header values, fallback bodies or file paths either (config-view.ts).
 */
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { HostPort } from '../config/policy.js';
import { clock } from '../core/clock.js';
import { BREAKER_STATE, type RouteBreaker } from '../policies/circuit-breaker.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Metrics } from '../telemetry/metrics.js';
import { boundAddress } from '../server/bound-address.js';
import { configView, REDACTED } from './config-view.js';

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/**
 * The admin routes declare no schemas, so fastify's default compilers (ajv with its formats, fast-json-stringify) would
 * be loaded and never used, a hundred files and their heap. Naming builders keeps fastify from requiring them; a route
 * given a schema later fails at start-up with this message rather than going unchecked.
 */
const NO_SCHEMA_COMPILERS = {
  buildValidator: noSchemaCompiler('validation'),
  buildSerializer: noSchemaCompiler('serialization'),
};

function noSchemaCompiler(kind: string): () => never {
  return () => {
    throw new Error(`admin routes take no ${kind} schemas: fastify's schema compilers are not loaded (proxy/admin/admin.ts)`);
  };
}

/** The admin routes, not yet listening: startAdmin binds them; tests drive them with inject(). */
export function buildAdmin(runtime: () => Runtime | undefined, metrics: Metrics): FastifyInstance {
  const app = Fastify({ logger: false, schemaController: { compilersFactory: NO_SCHEMA_COMPILERS } });

  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && !isLoopback(req.socket.remoteAddress)) {
      return reply.code(403).send({ error: 'forbidden', detail: `${req.method} ${req.url} is allowed from loopback only` });
    }
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const rt = runtime();
    const ready = rt?.ready ?? false;
    return reply.code(ready ? 200 : 503).send({ ready, generation: rt?.generation.id });
  });
  app.get('/metrics', async (_req, reply) => {
    const { chunks, bytes } = await metrics.scrape();
    return reply.header('content-type', metrics.registry.contentType).header('content-length', bytes).send(Readable.from(chunks));
  });
  app.get('/config', async (req, reply) => {
    const rt = runtime();
    if (!rt) return reply.code(503).send({ error: 'starting' });
    const audience = isLoopback(req.socket.remoteAddress) ? 'loopback' : 'remote';
    return {
      generation: rt.generation.id,
      source: audience === 'loopback' ? rt.policyFile : REDACTED,
      listeners: rt.listenerAddresses(),
      policy: configView(rt.generation.policy.document, audience),
    };
  });
  app.get('/breakers', async (_req, reply) => {
    const rt = runtime();
    if (!rt) return reply.code(503).send({ error: 'starting' });
    const breakers = rt.generation.routes.flatMap((r) => {
      const breaker = r.shared.get(BREAKER_STATE)?.state.value as RouteBreaker | undefined;
      return breaker ? [{ listener: r.policy.listener, ...breaker.snapshot() }] : [];
    });
    return { breakers };
  });
  app.get('/endpoints', async (_req, reply) => {
    const rt = runtime();
    if (!rt) return reply.code(503).send({ error: 'starting' });
    const now = clock.time();
    return {
      upstreams: [...rt.generation.upstreams.values()].map((u) => ({
        name: u.name,
        bulkhead: { active: u.bulkhead.active, queued: u.bulkhead.queued },
        endpoints: u.endpoints.map((e) => ({
          address: e.address,
          available: e.available(now),
          inflight: e.inflight,
          ejections: e.ejections,
          ejectedForMs: Math.max(0, Math.round(e.ejectedUntil - now)),
          healthCheckPassing: e.checkHealthy,
        })),
      })),
    };
  });
  app.post('/reload', async (_req, reply) => {
    const rt = runtime();
    if (!rt) return reply.code(503).send({ error: 'starting' });
    const result = await rt.reload('admin');
    // 503 for a draining proxy (ask another instance), 400 for a policy that is bad.
    return reply.code(result.ok ? 200 : result.draining ? 503 : 400).send(result);
  });
  return app;
}

export async function startAdmin(address: HostPort, runtime: () => Runtime | undefined, metrics: Metrics, log: Logger): Promise<{ close(): Promise<void>; address: string }> {
  const app = buildAdmin(runtime, metrics);
  await app.listen({ host: address.host, port: address.port });
  const bound = boundAddress(app.server.address() as AddressInfo);
  log.info({ listener: 'admin', address: bound }, 'listening');
  return { close: () => app.close(), address: bound };
}
