import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import t from 'tap';
import { answeredAtTarget } from '../../../proxy/server/request-target.js';

function exchange(method: string, url: string, headers: Record<string, string> = {}) {
  const req = { method, url, headers, resume: () => req } as unknown as IncomingMessage;
  const answer: { status?: number; headers?: OutgoingHttpHeaders; body?: string } = {};
  const res = {
    writeHead: (status: number, h: OutgoingHttpHeaders) => Object.assign(answer, { status, headers: h }),
    end: (body: string) => (answer.body = body),
  } as unknown as ServerResponse;
  return { req, answer, answered: answeredAtTarget(req, res, false) };
}

t.test('absolute-form becomes origin-form, its authority replacing Host', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['http://orders.example:8080/api/x?q=1', '/api/x?q=1', 'orders.example:8080'],
    ['HTTPS://orders.example', '/', 'orders.example'],
    ['http://orders.example?q=1', '/?q=1', 'orders.example'],
    ['http://user:pw@orders.example/a', '/a', 'orders.example'],
  ];
  for (const [target, path, host] of cases) {
    const { req, answered } = exchange('GET', target, { host: 'ignored' });
    t.notOk(answered);
    t.equal(req.url, path, target);
    t.equal(req.headers.host, host, target);
  }
  const other = exchange('GET', 'ftp://x/y', { host: 'kept' });
  t.equal(other.req.url, 'ftp://x/y', 'another scheme is left for routing to refuse');
  t.equal(other.req.headers.host, 'kept');
});

t.test('OPTIONS * and Max-Forwards: 0 are answered here; other Max-Forwards are decremented or left', async (t) => {
  const star = exchange('OPTIONS', '*');
  t.ok(star.answered);
  t.equal(star.answer.status, 200);
  t.match(star.answer.headers?.allow, /OPTIONS/);
  t.equal(star.answer.headers?.['x-breakwater-attempts'], '0');
  t.equal(exchange('GET', '*').answer.status, 400, 'asterisk-form is for OPTIONS only');

  t.equal(exchange('OPTIONS', '/a', { 'max-forwards': '0' }).answer.status, 200);
  const trace = exchange('TRACE', '/a', { 'max-forwards': '0', cookie: 'secret=1' });
  t.equal(trace.answer.status, 405);
  t.notMatch(trace.answer.body, /secret/, 'never echoed');

  t.equal(exchange('TRACE', '/a', { 'max-forwards': '3' }).req.headers['max-forwards'], '2');
  t.equal(exchange('GET', '/a', { 'max-forwards': '0' }).answered, false, 'only OPTIONS and TRACE heed it');
  t.equal(exchange('OPTIONS', '/a', { 'max-forwards': 'x1' }).req.headers['max-forwards'], 'x1', 'an invalid value passes as it came');
});
