import t from 'tap';
import { compileMatch, matches, Router } from '../../../proxy/routing/router.js';

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

t.test('the router keeps first-match-wins order across its segment index', async (t) => {
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

t.test('a prefix ending in a slash matches below it only; a header listed more than once matches any of its values', async (t) => {
  t.ok(matches({ pathPrefix: '/api/' }, 'GET', '/api/x', {}));
  t.notOk(matches({ pathPrefix: '/api/' }, 'GET', '/api', {}));
  t.ok(matches({ pathPrefix: '/', headers: [['x-tenant', 'blue']] }, 'GET', '/', { 'x-tenant': ['red', 'blue'] }));
  t.notOk(matches({ pathPrefix: '/', headers: [['x-tenant', 'blue']] }, 'GET', '/', {}), 'a missing header does not match');
  t.notOk(
    matches({ pathPrefix: '/', headers: [['x-tenant', 'blue'], ['x-canary', '1']] }, 'GET', '/', { 'x-tenant': 'blue' }),
    'every listed header must match',
  );
  t.ok(matches({}, 'DELETE', '/anything', {}), 'no conditions: everything matches');
});

t.test('the router checks methods and headers of indexed routes in order, falling through to later ones', async (t) => {
  const route = (name: string, match: Record<string, unknown>) => ({ name, policy: { match } });
  const router = new Router([
    route('orders-blue', { pathPrefix: '/orders', headers: [['x-tenant', 'blue']] }),
    route('orders-read', { pathPrefix: '/orders', methods: new Set(['GET', 'HEAD']) }),
    route('root', { path: '/' }),
  ]);
  const name = (method: string, path: string, headers = {}) => router.match(method, path, headers)?.name;
  t.equal(name('POST', '/orders/1', { 'x-tenant': 'blue' }), 'orders-blue');
  t.equal(name('GET', '/orders/1', { 'x-tenant': 'red' }), 'orders-read');
  t.equal(name('POST', '/orders/1', { 'x-tenant': 'red' }), undefined, 'no route matched');
  t.equal(name('GET', '/'), 'root', 'an exact "/" is a route for any-path lookups');
  t.equal(name('GET', '/other'), undefined);
  t.equal(new Router([]).match('GET', '/', {}), undefined, 'a listener without routes matches nothing');
});

t.test('a host condition matches HTTP/2\'s :authority when the request has no Host (RFC 9113 §8.3.1)', async (t) => {
  const route = (name: string, match: Record<string, unknown>) => ({ name, policy: { match } });
  const router = new Router([
    route('svc', { pathPrefix: '/', headers: [['host', 'svc.local']] }),
    route('svc-blue', { pathPrefix: '/blue', headers: [['x-tenant', 'blue'], ['host', 'blue.local']] }),
    route('rest', { pathPrefix: '/' }),
  ]);
  const name = (path: string, headers: Record<string, string>) => router.match('GET', path, headers)?.name;
  t.equal(name('/x', { host: 'svc.local' }), 'svc', 'HTTP/1.1: Host');
  t.equal(name('/x', { ':authority': 'svc.local' }), 'svc', 'HTTP/2: :authority');
  t.equal(name('/x', { ':authority': 'other.local' }), 'rest');
  t.equal(name('/x', { host: 'other.local', ':authority': 'svc.local' }), 'rest', 'Host, when sent, is the authority');
  t.equal(name('/blue', { ':authority': 'blue.local', 'x-tenant': 'blue' }), 'svc-blue', 'a host condition beside other headers');
  t.equal(name('/blue', { ':authority': 'blue.local', 'x-tenant': 'red' }), 'rest', 'the other headers still count');
  t.same(compileMatch({ pathPrefix: '/', headers: [['x-tenant', 'blue']] }), { pathPrefix: '/', headers: [['x-tenant', 'blue']] }, 'a match without a host condition is left as it is');
});

const GRPC = { 'content-type': 'application/grpc' };

t.test('match.grpc: gRPC calls to /<service>/<method>, by service, method or both', async (t) => {
  const both = { grpc: { service: 'breakwater.demo.Demo', method: 'Unary' } };
  t.ok(matches(both, 'POST', '/breakwater.demo.Demo/Unary', GRPC));
  t.notOk(matches(both, 'POST', '/breakwater.demo.Demo/ServerStream', GRPC), 'another method');
  t.notOk(matches(both, 'POST', '/breakwater.demo.Demo2/Unary', GRPC), 'a service the name only starts');
  t.notOk(matches(both, 'POST', '/other.Demo/Unary', GRPC));
  const service = { grpc: { service: 'breakwater.demo.Demo' } };
  t.ok(matches(service, 'POST', '/breakwater.demo.Demo/Bidi', GRPC), 'any method of the service');
  t.notOk(matches(service, 'POST', '/breakwater.demo.Demo', GRPC), 'no method');
  t.notOk(matches(service, 'POST', '/breakwater.demo.Demo/', GRPC), 'an empty method');
  t.notOk(matches(service, 'POST', '/breakwater.demo.Demo/Unary/x', GRPC), 'a third segment');
  const method = { grpc: { method: 'Unary' } };
  t.ok(matches(method, 'POST', '/a.B/Unary', GRPC), 'that method of any service');
  t.ok(matches(method, 'POST', '/x/Unary', GRPC));
  t.notOk(matches(method, 'POST', '/a.B/NotUnary', GRPC), 'a method the name only ends');
  t.notOk(matches(method, 'POST', '//Unary', GRPC), 'an empty service');
  t.notOk(matches(method, 'POST', '/a/b/Unary', GRPC), 'three segments');
});

t.test('match.grpc takes gRPC calls only: grpc content-types, not grpc-web or plain HTTP to the same path', async (t) => {
  const match = { grpc: { service: 'a.B' } };
  for (const contentType of ['application/grpc', 'application/grpc+proto', 'application/grpc+json']) {
    t.ok(matches(match, 'POST', '/a.B/C', { 'content-type': contentType }), contentType);
  }
  for (const headers of [{ 'content-type': 'application/grpc-web' }, { 'content-type': 'application/json' }, {}]) {
    t.notOk(matches(match, 'POST', '/a.B/C', headers), JSON.stringify(headers));
  }
  t.notOk(matches({ grpc: { service: 'a.B' }, headers: [['x-tenant', 'blue']] }, 'POST', '/a.B/C', GRPC), 'other conditions still apply');
});

t.test('the router indexes a gRPC route by its service and keeps first-match-wins order with method-only routes', async (t) => {
  const route = (name: string, match: Record<string, unknown>) => ({ name, policy: { match } });
  const router = new Router([
    route('demo-unary', { grpc: { service: 'breakwater.demo.Demo', method: 'Unary' } }),
    route('any-health', { grpc: { method: 'Check' } }),
    route('demo', { grpc: { service: 'breakwater.demo.Demo' } }),
    route('http-demo', { pathPrefix: '/breakwater.demo.Demo' }),
    route('rest', { pathPrefix: '/' }),
  ]);
  const name = (path: string, headers: Record<string, string> = GRPC) => router.match('POST', path, headers)?.name;
  t.equal(name('/breakwater.demo.Demo/Unary'), 'demo-unary');
  t.equal(name('/breakwater.demo.Demo/Check'), 'any-health', 'an earlier method-only route wins over a later service route');
  t.equal(name('/grpc.health.v1.Health/Check'), 'any-health');
  t.equal(name('/breakwater.demo.Demo/Bidi'), 'demo');
  t.equal(name('/breakwater.demo.Demo/Unary', { 'content-type': 'application/json' }), 'http-demo', 'not gRPC: the HTTP routes');
  t.equal(name('/other.Svc/Call'), 'rest');
  const many = new Router(Array.from({ length: 1000 }, (_, i) => route(`s${i}`, { grpc: { service: `pkg.Service${i}` } })));
  t.equal(many.match('POST', '/pkg.Service999/Get', GRPC)?.name, 's999');
  t.equal(many.match('POST', '/pkg.Service1000/Get', GRPC), undefined);
});
