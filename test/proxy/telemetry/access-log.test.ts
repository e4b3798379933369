// The access line is filled into a template rather than serialised by pino, so these check that it is still what
// pino would write: valid JSON, the same field names and order, client-controlled text escaped, absent fields left out.
import t from 'tap';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { AccessLog } from '../../../proxy/telemetry/access-log.js';
import { createLoggers } from '../../../proxy/telemetry/logger.js';

const TIME = ',"time":"2026-11-25T12:00:00.000Z"';

function capture(): { lines: string[]; log: AccessLog } {
  const lines: string[] = [];
  return { lines, log: new AccessLog({ write: (line: string) => lines.push(line) }, () => TIME, { service: 'breakwater' }, true) };
}

t.test('a route line is the JSON line pino writes for the same fields, key for key and in order', async (t) => {
  const { lines, log } = capture();
  const entry = {
    method: 'GET',
    path: '/orders?id=7',
    status: 200,
    outcome: 'ok' as const,
    attempts: 2,
    endpoints: ['10.0.0.1:80', '10.0.0.2:80'],
    retrySkipped: 'budget' as const,
    injected: 'delay' as const,
    durationMs: 12.3,
    requestId: 'abc-123',
  };
  log.for({ listener: 'egress', route: 'api', upstream: 'backend' }).write(entry);

  const written: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (written.push(chunk.toString()), done()) });
  const reference = pino({ base: { service: 'breakwater' }, timestamp: () => TIME }, sink);
  reference.child({ listener: 'egress', route: 'api', upstream: 'backend' }).info(entry, 'request');
  await new Promise((resolve) => setImmediate(resolve));

  t.equal(lines.length, 1);
  t.ok(lines[0]!.endsWith('}\n'), 'one line, newline-terminated');
  t.equal(lines[0], written[0], 'byte for byte what pino writes');
});

t.test('text a client controls is escaped; the line stays one valid JSON object', async (t) => {
  const { lines, log } = capture();
  const hostile = 'a"b\\c\nd\u0001e\u2028é';
  log.for({ listener: 'egress', route: 'r"1', upstream: 'u\\1' }).write({
    method: 'GET',
    path: `/${hostile}`,
    status: 404,
    outcome: 'no-route',
    requestId: hostile,
  });
  t.equal(lines.length, 1);
  t.notOk(lines[0]!.slice(0, -1).includes('\n'), 'no raw newline inside the line');
  const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
  t.equal(parsed.path, `/${hostile}`);
  t.equal(parsed.requestId, hostile);
  t.equal(parsed.route, 'r"1');
  t.equal(parsed.upstream, 'u\\1');
});

t.test('fields a request did not reach are left out, as pino leaves out undefined', async (t) => {
  const { lines, log } = capture();
  log.for({ listener: 'egress' }).write({ method: 'POST', path: '/', status: 404, outcome: 'no-route', requestId: 'x' });
  t.same(JSON.parse(lines[0]!), {
    level: 30,
    time: '2026-11-25T12:00:00.000Z',
    service: 'breakwater',
    listener: 'egress',
    method: 'POST',
    path: '/',
    status: 404,
    outcome: 'no-route',
    requestId: 'x',
    msg: 'request',
  });
});

t.test('access lines are written at info and below, not above', async (t) => {
  for (const [level, enabled] of [['debug', true], ['info', true], ['warn', false], ['silent', false]] as const) {
    t.equal(createLoggers(level).access.enabled, enabled, `level ${level}`);
  }
});
