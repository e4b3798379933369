/**
 * Admin safety, driven in-process with fastify's inject(): read-only endpoints answer anyone, POST /reload answers
 * loopback clients only (tested with a spoofed remote address instead of real non-loopback traffic), /config never
 * shows secret-looking values, and to non-loopback callers no header values, fallback bodies or file paths.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { stringify } from 'yaml';
import { Runtime } from '../../../proxy/runtime/runtime.js';
import { buildAdmin } from '../../../proxy/admin/admin.js';
import { createLoggers } from '../../../proxy/telemetry/logger.js';
import { Metrics } from '../../../proxy/telemetry/metrics.js';
import { withTestDefaults } from '../../helpers/breakwater.js';
import { makeCertificates } from '../../helpers/tls-fixture.js';

const SECRETS = ['Bearer s3cr3t-match', 'session=s3cr3t-cookie', 's3cr3t-token'];
/** Values loopback callers see and no one else: none has a secret-looking key. */
const INTERNAL = { matchHeader: 'internal-shared-value', fallbackHeader: 'fallback-header-value', fallbackJson: 'fallback-json-value' };

interface ConfigView {
  source: string;
  policy: {
    listeners: Array<{ routes: Array<{ name: string; match: Record<string, unknown>; fallback: Record<string, unknown> }> }>;
    upstreams: Array<{ name: string; tls?: Record<string, unknown> }>;
  };
}

t.test('admin server', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'breakwater-admin-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const policyFile = join(dir, 'policy.yaml');
  // A real certificate: the policy check reads caFile. Its path is what /config must not show outside the pod.
  const certs = makeCertificates(['internal.example']);
  t.teardown(() => certs.remove());
  const caFile = join(dir, 'internal-ca.pem');
  copyFileSync(certs.caFile, caFile);
  writeFileSync(
    policyFile,
    stringify(
      withTestDefaults({
        listeners: [
          {
            name: 'main',
            address: '127.0.0.1:0',
            routes: [
              {
                name: 'api',
                match: { pathPrefix: '/api', headers: { authorization: SECRETS[0]!, 'x-tenant': 'blue', 'x-internal-auth': INTERNAL.matchHeader } },
                upstream: 'backend',
                circuitBreaker: {},
                fallback: {
                  status: 503,
                  headers: { 'set-cookie': SECRETS[1]!, 'x-api-token': SECRETS[2]!, 'x-served-by': INTERNAL.fallbackHeader },
                  json: { note: INTERNAL.fallbackJson },
                },
              },
            ],
          },
        ],
        upstreams: [
          { name: 'backend', endpoints: ['127.0.0.1:9'] },
          { name: 'internal-tls', endpoints: ['https://127.0.0.1:9'], tls: { serverName: 'internal.example', caFile } },
        ],
      }),
    ),
  );
  const metrics = new Metrics();
  const runtime = await Runtime.start(policyFile, metrics, createLoggers('silent'));
  t.teardown(() => runtime.drain(true));
  const app = buildAdmin(() => runtime, metrics);
  t.teardown(() => app.close());

  await t.test('read-only endpoints answer any client', async (t) => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/config', '/breakers', '/endpoints']) {
      const res = await app.inject({ method: 'GET', url, remoteAddress: '10.0.0.7' });
      t.equal(res.statusCode, 200, `GET ${url} from 10.0.0.7`);
    }
    const breakers = JSON.parse((await app.inject({ method: 'GET', url: '/breakers' })).body) as { breakers: Array<{ route: string; state: string }> };
    t.match(breakers.breakers, [{ route: 'api', state: 'closed' }]);
  });

  await t.test('POST /reload answers loopback clients only', async (t) => {
    const denied = await app.inject({ method: 'POST', url: '/reload', remoteAddress: '10.0.0.7' });
    t.equal(denied.statusCode, 403);
    t.match(JSON.parse(denied.body), { error: 'forbidden', detail: /loopback only/ });
    const mapped = await app.inject({ method: 'POST', url: '/reload', remoteAddress: '::ffff:10.0.0.7' });
    t.equal(mapped.statusCode, 403, 'an IPv4-mapped non-loopback address is refused too');
    t.equal(runtime.generation.id, 1, 'a refused reload changed nothing');

    const v4 = await app.inject({ method: 'POST', url: '/reload', remoteAddress: '127.0.0.1' });
    t.equal(v4.statusCode, 200, v4.body);
    t.match(JSON.parse(v4.body), { ok: true, generation: 2 });
    const v6 = await app.inject({ method: 'POST', url: '/reload', remoteAddress: '::1' });
    t.equal(v6.statusCode, 200, v6.body);
    t.equal(runtime.generation.id, 3);

    writeFileSync(policyFile, 'listeners: 7\n');
    const invalid = await app.inject({ method: 'POST', url: '/reload', remoteAddress: '127.0.0.1' });
    t.equal(invalid.statusCode, 400, 'a bad policy file is a 400 naming the problems');
    const rejected = JSON.parse(invalid.body) as { ok: boolean; generation: number; problems: string[] };
    t.match(rejected, { ok: false, generation: 3 });
    t.ok(rejected.problems.some((p) => p.includes('listeners: must be array')), rejected.problems.join('; '));
  });

  await t.test('GET /config redacts secret-looking values', async (t) => {
    const res = await app.inject({ method: 'GET', url: '/config' });
    t.equal(res.statusCode, 200);
    for (const secret of SECRETS) t.notOk(res.body.includes(secret), `"${secret}" is not shown`);
    const route = (JSON.parse(res.body) as { policy: { listeners: Array<{ routes: Array<Record<string, Record<string, unknown>>> }> } }).policy.listeners[0]!.routes[0]!;
    t.same(route.match!.headers, { authorization: '[redacted]', 'x-tenant': 'blue', 'x-internal-auth': INTERNAL.matchHeader }, 'other header values stay readable');
    t.same(route.fallback!.headers, { 'set-cookie': '[redacted]', 'x-api-token': '[redacted]', 'x-served-by': INTERNAL.fallbackHeader });
  });

  await t.test('GET /config shows loopback callers every value that is not secret-looking', async (t) => {
    for (const remoteAddress of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      const res = await app.inject({ method: 'GET', url: '/config', remoteAddress });
      for (const secret of SECRETS) t.notOk(res.body.includes(secret), `${remoteAddress}: "${secret}" is not shown`);
      const view = JSON.parse(res.body) as ConfigView;
      t.equal(view.source, policyFile, `${remoteAddress}: the policy file is named`);
      t.same(view.policy.listeners[0]!.routes[0]!.fallback.json, { note: INTERNAL.fallbackJson });
      t.same(view.policy.upstreams[1]!.tls, { serverName: 'internal.example', caFile });
    }
  });

  await t.test('GET /config from outside the pod shows no header values, fallback bodies or file paths', async (t) => {
    for (const remoteAddress of ['10.0.0.7', '::ffff:10.0.0.7', '2001:db8::7']) {
      const res = await app.inject({ method: 'GET', url: '/config', remoteAddress });
      t.equal(res.statusCode, 200);
      for (const value of [...SECRETS, ...Object.values(INTERNAL), 'blue', caFile, dir]) {
        t.notOk(res.body.includes(value), `${remoteAddress}: "${value}" is not shown`);
      }
      const view = JSON.parse(res.body) as ConfigView;
      const route = view.policy.listeners[0]!.routes[0]!;
      t.same(route.match, { pathPrefix: '/api', headers: { authorization: '[redacted]', 'x-tenant': '[redacted]', 'x-internal-auth': '[redacted]' } }, 'header names and the rest of the match stay');
      t.same(route.fallback, { status: 503, headers: { 'set-cookie': '[redacted]', 'x-api-token': '[redacted]', 'x-served-by': '[redacted]' }, json: '[redacted]' });
      t.same(view.policy.upstreams[1], { name: 'internal-tls', endpoints: ['https://127.0.0.1:9'], tls: { serverName: 'internal.example', caFile: '[redacted]' } });
      t.equal(view.source, '[redacted]', 'the policy file path is not shown');
    }
  });
});

t.test('the admin server loads none of fastify\'s schema compilers', async (t) => {
  // In a fresh process, so that nothing else this test file imports has loaded them.
  const admin = new URL('../../../dist/proxy/admin/admin.js', import.meta.url).href;
  const script = `
    import { createRequire } from 'node:module';
    const { buildAdmin } = await import(${JSON.stringify(admin)});
    const app = buildAdmin(() => undefined, { registry: { contentType: 'text/plain', metrics: async () => '' } });
    await app.ready();
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => /ajv-compiler|fast-json-stringify-compiler|[/]ajv[/]dist[/]core/.test(f));
    console.log(JSON.stringify({ health: health.statusCode, loaded }));
    await app.close();`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000, cwd: fileURLToPath(new URL('../../..', import.meta.url)) });
  t.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout.trim().split('\n').pop()!) as { health: number; loaded: string[] };
  t.equal(result.health, 200, 'the admin server answers without them');
  t.same(result.loaded, [], 'no schema compiler module was required');
});

t.test('an admin route given a schema fails at start-up, naming why', async (t) => {
  const app = buildAdmin(() => undefined, new Metrics());
  t.teardown(() => app.close());
  app.post('/with-schema', { schema: { body: { type: 'object' } } }, async () => ({}));
  await t.rejects(async () => app.ready(), /admin routes take no validation schemas/);
});
