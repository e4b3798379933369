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

t.test('hop-by-hop headers stop at the proxy, both ways', async (t) => {
  const out = upstreamRequestHeaders(
    { host: 'localhost:15001', connection: 'keep-alive, x-secret-hop', 'x-secret-hop': '1', 'keep-alive': 'timeout=5', te: 'trailers', 'transfer-encoding': 'chunked', upgrade: 'h2c', 'x-forwarded-for': '10.9.9.9', accept: '*/*' },
    { remoteAddress: '127.0.0.1', requestId: 'rid' },
  );
  t.same(Object.keys(out).sort(), ['accept', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id']);
  t.equal(out['x-forwarded-for'], '10.9.9.9, 127.0.0.1', 'the client address is appended');
  t.equal(out['x-forwarded-host'], 'localhost:15001');
  const back = clientResponseHeaders({ connection: 'close, x-internal', 'x-internal': 'a', 'content-type': 'text/plain', 'transfer-encoding': 'chunked', 'set-cookie': ['a=1', 'b=2'] });
  t.same(back, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
});
