/**
 * A client may leave at any stage of its request. Whatever the request held is released exactly once (bulkhead slots
 * back to zero, the route answering at full capacity again), and an abandoned request is never sent upstream, or is
 * cut upstream at once when it already was. Real Breakwater, a scripted loopback upstream, raw client sockets.
 */
import { connect, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { eventually, http, metricValue, startBreakwater, type RunningBreakwater } from '../helpers/breakwater.js';
import { startScriptedUpstream } from '../helpers/scripted-upstream.js';

/** Opens a connection and sends a request head (and any body bytes given); the caller destroys it to leave. */
function leaveAfterSending(url: string, path: string, options: { method?: string; headers?: string; body?: string } = {}): Promise<Socket> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`${options.method ?? 'GET'} ${path} HTTP/1.1\r\nhost: test\r\n${options.headers ?? ''}\r\n${options.body ?? ''}`);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

/** Reads until the response head has arrived on `socket`. */
function responseHead(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const timer = setTimeout(() => reject(new Error(`no response head within 5 s; got: ${data}`)), 5000);
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\r\n\r\n')) {
        clearTimeout(timer);
        resolve(data);
      }
    });
  });
}

async function clientGoneLogged(bw: RunningBreakwater, path: string): Promise<void> {
  await bw.waitForLog((l) => l.msg === 'request' && l.path === path && l.outcome === 'client-gone', 5000);
}

/** Every bulkhead of the proxy is empty: nothing an abandoned request took is still held. */
async function allReleased(t: Test, bw: RunningBreakwater, what: string): Promise<void> {
  await eventually(`every bulkhead empty after ${what}`, async () => {
    const text = await bw.metrics();
    const held = metricValue(text, 'breakwater_bulkhead_active') + metricValue(text, 'breakwater_bulkhead_queued');
    return held === 0 ? true : undefined;
  });
  t.equal(metricValue(await bw.metrics(), 'breakwater_replay_buffer_bytes'), 0, `no replay buffer held after ${what}`);
}

t.test('a client leaving at any stage releases everything and sends nothing more upstream', async (t) => {
  const upstream = await startScriptedUpstream();
  t.teardown(() => upstream.close());
  const route = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    match: { pathPrefix: `/${name}` },
    upstream: 'backend',
    timeout: '20s',
    ...extra,
  });
  const bw = await startBreakwater({
    listeners: [
      {
        name: 'egress',
        address: '127.0.0.1:0',
        routes: [
          route('queued', { maxConcurrent: 5 }),
          route('delayed', { maxConcurrent: 3, fault: { delay: { percent: 100, duration: '400ms' } } }),
          route('upload', { maxConcurrent: 3 }),
          route('backoff', {
            maxConcurrent: 3,
            retry: { attempts: 3, on: [503], backoff: { base: '400ms', max: '400ms', jitter: 'none' }, budget: { ratio: 1, minPerSecond: 100 } },
          }),
          route('attempt', { maxConcurrent: 3 }),
          route('body', { maxConcurrent: 3 }),
        ],
      },
    ],
    upstreams: [{ name: 'backend', endpoints: [upstream.address], pool: { maxConnections: 8, maxConcurrent: 1, maxPending: 4, queueTimeout: '10s' } }],
  });
  t.teardown(() => bw.stop());

  await t.test('queued in a bulkhead', async (t) => {
    const held: Array<() => void> = [];
    upstream.on('/queued/hold', (a) => held.push(() => a.res.end('done')));
    const holding = http(`${bw.url}/queued/hold`);
    await upstream.arrival('/queued/hold');
    const leaving = await leaveAfterSending(bw.url, '/queued/left');
    await eventually('the second request queued in the upstream bulkhead', async () =>
      metricValue(await bw.metrics(), 'breakwater_bulkhead_queued', { scope: 'upstream' }) === 1 ? true : undefined,
    );
    leaving.destroy();
    await clientGoneLogged(bw, '/queued/left');
    held.shift()!();
    t.equal((await holding).status, 200);
    t.equal((await http(`${bw.url}/queued/after`)).status, 200, 'the slot is free again');
    t.equal(upstream.count('/queued/left'), 0, 'the abandoned request never reached the upstream');
    await allReleased(t, bw, 'a queued client left');
  });

  await t.test('in an injected fault delay', async (t) => {
    const before = metricValue(await bw.metrics(), 'breakwater_faults_injected_total', { route: 'delayed' });
    const leaving = await Promise.all([1, 2, 3].map((i) => leaveAfterSending(bw.url, `/delayed/left-${i}`, { method: 'POST', headers: 'content-length: 2\r\n', body: 'hi' })));
    await eventually('three delays injected', async () =>
      metricValue(await bw.metrics(), 'breakwater_faults_injected_total', { route: 'delayed' }) === before + 3 ? true : undefined,
    );
    for (const socket of leaving) socket.destroy();
    for (const i of [1, 2, 3]) await clientGoneLogged(bw, `/delayed/left-${i}`);
    // Three more requests go through the same delay after them: had the abandoned ones gone on, they would be first.
    const after = await Promise.all([1, 2, 3].map((i) => http(`${bw.url}/delayed/after-${i}`)));
    t.same(after.map((r) => r.status), [200, 200, 200], 'the route answers at full capacity (maxConcurrent 3)');
    t.equal(upstream.count('/delayed/left'), 0, 'no abandoned POST was delivered');
    await allReleased(t, bw, 'clients left during a fault delay');
  });

  await t.test('during the body upload', async (t) => {
    const leaving = await leaveAfterSending(bw.url, '/upload/left', { method: 'POST', headers: 'content-length: 1000\r\n', body: 'x'.repeat(500) });
    await eventually('the proxy reading the body', async () =>
      metricValue(await bw.metrics(), 'breakwater_replay_buffer_bytes') > 0 ? true : undefined,
    );
    leaving.destroy();
    await clientGoneLogged(bw, '/upload/left');
    t.equal((await http(`${bw.url}/upload/after`, { method: 'POST', body: 'whole' })).status, 200);
    t.equal(upstream.count('/upload/left'), 0, 'a half-sent body is never forwarded');
    await allReleased(t, bw, 'a client left mid-upload');
  });

  await t.test('during the backoff between attempts', async (t) => {
    upstream.on('/backoff/', (a) => {
      a.res.statusCode = upstream.count(a.path) === 1 ? 503 : 200;
      a.res.end();
    });
    const retriesBefore = metricValue(await bw.metrics(), 'breakwater_retries_total', { route: 'backoff' });
    const leaving = await leaveAfterSending(bw.url, '/backoff/left');
    await eventually('the first attempt answered 503 and a retry scheduled', async () =>
      metricValue(await bw.metrics(), 'breakwater_retries_total', { route: 'backoff' }) === retriesBefore + 1 ? true : undefined,
    );
    leaving.destroy();
    await clientGoneLogged(bw, '/backoff/left');
    // The same script, started later: its retry arrives after the abandoned one's would have.
    const after = await http(`${bw.url}/backoff/after`);
    t.equal(after.status, 200);
    t.equal(after.headers['x-breakwater-attempts'], '2');
    t.equal(upstream.count('/backoff/left'), 1, 'the abandoned request was not retried');
    await allReleased(t, bw, 'a client left during backoff');
  });

  await t.test('during the attempt', async (t) => {
    upstream.on('/attempt/left', () => undefined); // never answers
    const leaving = await leaveAfterSending(bw.url, '/attempt/left');
    const arrival = await upstream.arrival('/attempt/left');
    leaving.destroy();
    await arrival.closed; // the proxy cut the attempt: it does not wait for an answer nobody will read
    await clientGoneLogged(bw, '/attempt/left');
    t.equal((await http(`${bw.url}/attempt/after`)).status, 200);
    await allReleased(t, bw, 'a client left during the attempt');
  });

  await t.test('during the response body', async (t) => {
    upstream.on('/body/left', (a) => {
      a.res.writeHead(200, { 'content-length': '100000' });
      a.res.write('x'.repeat(1000));
    });
    const leaving = await leaveAfterSending(bw.url, '/body/left');
    await responseHead(leaving);
    const arrival = await upstream.arrival('/body/left');
    leaving.destroy();
    await arrival.closed;
    await clientGoneLogged(bw, '/body/left');
    t.equal((await http(`${bw.url}/body/after`)).status, 200);
    await allReleased(t, bw, 'a client left during the response body');
  });
});
