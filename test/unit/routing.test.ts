import t from 'tap';
import { matches } from '../../proxy/routing/router.js';
import { clientResponseHeaders, upstreamRequestHeaders } from '../../proxy/server/headers.js';

t.test('route matching: exact path, segment-aware prefix, methods, headers', async (t) => {
  t.ok(matches({ pathPrefix: '/api' }, 'GET', '/api', {}));
  t.ok(matches({ pathPrefix: '/api' }, 'GET', '/api/orders', {}));
  t.notOk(matches({ pathPrefix: '/api' }, 'GET', '/apis', {}));
  t.ok(matches({ pathPrefix: '/' }, 'GET', '/anything', {}));
  t.ok(matches({ path: '/health' }, 'GET', '/health', {}));
  t.notOk(matches({ path: '/health' }, 'GET', '/health/x', {}));
  t.notOk(matches({ pathPrefix: '/', methods: new Set(['POST']) }, 'GET', '/', {}));
  t.ok(matches({ pathPrefix: '/', headers: [['x-tenant', 'blue']] }, 'GET', '/', { 'x-tenant': 'blue' }));
  t.notOk(matches({ pathPrefix: '/', headers: [['x-tenant', 'blue']] }, 'GET', '/', { 'x-tenant': 'red' }));
});

t.test('hop-by-hop headers stop at the proxy, both ways; Via is appended both ways', async (t) => {
  const out = upstreamRequestHeaders(
    { host: 'localhost:15001', connection: 'keep-alive, x-secret-hop', 'x-secret-hop': '1', 'keep-alive': 'timeout=5', te: 'trailers', 'transfer-encoding': 'chunked', upgrade: 'h2c', 'x-forwarded-for': '10.9.9.9', accept: '*/*' },
    { remoteAddress: '127.0.0.1', requestId: 'rid', httpVersion: '1.1', trustForwarded: true },
  );
  t.same(Object.keys(out).sort(), ['accept', 'via', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id']);
  t.equal(out['x-forwarded-for'], '10.9.9.9, 127.0.0.1', 'trusted: the client address is appended');
  t.equal(out['x-forwarded-host'], 'localhost:15001');
  t.equal(out.via, '1.1 breakwater');
  const back = clientResponseHeaders({ connection: 'close, x-internal', 'x-internal': 'a', 'content-type': 'text/plain', 'transfer-encoding': 'chunked', 'set-cookie': ['a=1', 'b=2'] });
  t.same(back, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], via: '1.1 breakwater' });
  t.equal(clientResponseHeaders({ via: ['1.0 a', '1.1 b'] }).via, '1.0 a, 1.1 b, 1.1 breakwater', 'appended to every Via the upstream sent');
});

t.test('x-forwarded-*: overwritten unless the listener trusts its clients, which keep theirs', async (t) => {
  const incoming = { host: 'public.example', 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'spoofed.example', via: '1.1 edge' };
  const untrusted = upstreamRequestHeaders(incoming, { remoteAddress: '10.0.0.7', requestId: 'rid', httpVersion: '1.0', trustForwarded: false });
  t.equal(untrusted['x-forwarded-for'], '10.0.0.7', 'only the address Breakwater saw');
  t.equal(untrusted['x-forwarded-proto'], 'http');
  t.equal(untrusted['x-forwarded-host'], 'public.example', 'the Host Breakwater received');
  t.equal(untrusted.via, '1.1 edge, 1.0 breakwater', 'the received protocol version is the client request\'s');
  const trusted = upstreamRequestHeaders(incoming, { remoteAddress: '10.0.0.7', requestId: 'rid', httpVersion: '1.1', trustForwarded: true });
  t.equal(trusted['x-forwarded-for'], '6.6.6.6, 10.0.0.7');
  t.equal(trusted['x-forwarded-proto'], 'https');
  t.equal(trusted['x-forwarded-host'], 'spoofed.example');
});

t.test('the router keeps first-match-wins order across its segment index', async (t) => {
  const { Router } = await import('../../proxy/routing/router.js');
  const route = (name: string, match: Record<string, unknown>) => ({ name, policy: { match } });
  const router = new Router([
    route('health', { path: '/health' }),
    route('orders-post', { pathPrefix: '/api/orders', methods: new Set(['POST']) }),
    route('catch-all-get', { pathPrefix: '/', methods: new Set(['GET']) }),
    route('api', { pathPrefix: '/api' }),
    route('ap', { pathPrefix: '/ap' }),
    route('rest', { pathPrefix: '/' }),
  ]);
  const name = (method: string, path: string) => router.match(method, path, {})?.name;
  t.equal(name('GET', '/health'), 'health');
  t.equal(name('POST', '/health/x'), 'rest', 'an exact path does not match below it');
  t.equal(name('POST', '/api/orders/7'), 'orders-post');
  t.equal(name('GET', '/api/orders'), 'catch-all-get', 'an earlier any-path route still wins over a later indexed one');
  t.equal(name('PUT', '/api/x'), 'api');
  t.equal(name('PUT', '/ap'), 'ap');
  t.equal(name('PUT', '/apx'), 'rest');
  t.equal(name('PUT', '//x'), 'rest');
  const many = new Router(Array.from({ length: 1000 }, (_, i) => route(`r${i}`, { pathPrefix: `/svc${i}` })));
  t.equal(many.match('GET', '/svc999/items', {})?.name, 'r999');
  t.equal(many.match('GET', '/svc1000', {}), undefined);
});
