import t from 'tap';
import { clientResponseHeaders, upstreamRequestHeaders } from '../../../proxy/server/headers.js';

t.test('hop-by-hop headers stop at the proxy, both ways; Via is appended both ways', async (t) => {
  const out = upstreamRequestHeaders(
    { host: 'localhost:15001', connection: 'keep-alive, x-secret-hop', 'x-secret-hop': '1', 'keep-alive': 'timeout=5', te: 'trailers', 'transfer-encoding': 'chunked', upgrade: 'h2c', 'x-forwarded-for': '10.9.9.9', accept: '*/*' },
    { remoteAddress: '127.0.0.1', requestId: 'rid', httpVersion: '1.1', trustForwarded: true },
  );
  t.same(Object.keys(out).sort(), ['accept', 'via', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id']);
  t.equal(out['x-forwarded-for'], '10.9.9.9, 127.0.0.1', 'trusted: the client address is appended');
  t.equal(out['x-forwarded-host'], 'localhost:15001');
  t.equal(out.via, '1.1 breakwater');
  const back = clientResponseHeaders({ connection: 'close, x-internal', 'x-internal': 'a', 'content-type': 'text/plain', 'transfer-encoding': 'chunked', 'set-cookie': ['a=1', 'b=2'] }, '1.1');
  t.same(back, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], via: '1.1 breakwater' });
  t.equal(clientResponseHeaders({ via: ['1.0 a', '1.1 b'] }, '1.1').via, '1.0 a, 1.1 b, 1.1 breakwater', 'appended to every Via the upstream sent');
  t.equal(clientResponseHeaders({ ':status': '200', 'content-type': 'application/grpc' }, '2').via, '2 breakwater', 'the version the upstream answered in');
  t.notOk(':status' in clientResponseHeaders({ ':status': '200' }), "an HTTP/2 upstream's pseudo-headers stay on its hop");
  t.equal(clientResponseHeaders({ 'content-type': 'text/plain' }).via, undefined, "none on Breakwater's own answers");
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
