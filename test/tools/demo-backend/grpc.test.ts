// The gRPC demo backend (--grpc on) as a real process, called with a real @grpc/grpc-js client: the four methods of
// demo.proto, the fault knobs answered in gRPC terms, health, crash and freeze, and HTTP on the same port.
import { status } from '@grpc/grpc-js';
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startBackend, type RunningBackend } from '../../helpers/demo-backend.js';
import { bidi, clientStream, demoClient, healthCheck, serverStream, unary } from '../../helpers/grpc-demo.js';
import { waitFor } from '../../helpers/wait-for.js';

const GRPC = { BACKEND_GRPC: 'on' };

async function grpcBackend(t: Test, options: Parameters<typeof startBackend>[0] = {}): Promise<RunningBackend> {
  const backend = await startBackend({ seed: 1, ...options, env: GRPC });
  t.teardown(() => backend.stop());
  return backend;
}

t.test('the four methods answer, naming the replica; HTTP on the same port counts the calls', async (t) => {
  const backend = await grpcBackend(t, { name: 'demo-a' });
  const client = demoClient(backend.address);
  t.teardown(() => client.close());

  const one = await unary(client, { message: 'hello', payload: Buffer.from('abc') });
  t.equal(one.code, status.OK);
  t.match(one.replies, [{ message: 'hello', replica: 'demo-a', sequence: 0 }]);
  t.same(one.replies[0]!.payload, Buffer.from('abc'), 'payload echoed');
  t.equal(one.metadata.get('x-backend-replica')[0], 'demo-a', 'replica in the initial metadata too');

  const stream = await serverStream(client, { message: 'tick', count: 5, intervalMs: 10 });
  t.equal(stream.code, status.OK);
  t.same(stream.replies.map((r) => [r.sequence, r.replica]), [0, 1, 2, 3, 4].map((i) => [i, 'demo-a']));

  const counted = await clientStream(client, [{ payload: Buffer.alloc(10) }, { payload: Buffer.alloc(20) }, {}]);
  t.equal(counted.code, status.OK);
  t.match(counted.replies, [{ sequence: 3, message: 'received 3 messages, 30 payload bytes', replica: 'demo-a' }]);

  const echoed = await bidi(client, [{ message: 'a' }, { message: 'b' }]);
  t.equal(echoed.code, status.OK);
  t.same(echoed.replies.map((r) => [r.message, r.sequence]), [['a', 0], ['b', 1]]);

  // Several HTTP requests on one keep-alive connection after the gRPC ones: both protocols share the port.
  for (let i = 0; i < 3; i++) {
    const ready = await request(`${backend.url}/readyz`);
    t.equal(ready.statusCode, 200, 'HTTP /readyz on the gRPC port');
    await ready.body.dump();
  }
  const stats = await backend.stats();
  t.equal(stats.requests.total, 4, 'each call counted on arrival');
  t.same(stats.requests.byRoute, {
    'POST /breakwater.demo.Demo/Unary': 1, 'POST /breakwater.demo.Demo/ServerStream': 1,
    'POST /breakwater.demo.Demo/ClientStream': 1, 'POST /breakwater.demo.Demo/Bidi': 1,
  });
  t.equal(stats.inFlight, 0);
});

t.test('fault knobs: failures are UNAVAILABLE, slow calls wait, hang never answers', async (t) => {
  const backend = await grpcBackend(t);
  const client = demoClient(backend.address);
  t.teardown(() => client.close());

  await backend.setFaults({ failureRate: 1, failureStatus: 500 });
  const failed = await unary(client, { message: 'x' });
  t.equal(failed.code, status.UNAVAILABLE, 'an injected failure is UNAVAILABLE whatever the HTTP status knob says');
  t.match(failed.details, /injected failure/);
  const failedStream = await serverStream(client, { count: 3 });
  t.equal(failedStream.code, status.UNAVAILABLE, 'streams fail before their first reply');
  t.same(failedStream.replies, []);

  await backend.setFaults({ failureRate: 0, failNext: 1 });
  t.equal((await unary(client, {})).code, status.UNAVAILABLE, 'failNext fails the next call');
  t.equal((await unary(client, {})).code, status.OK, 'and only that one');

  await backend.setFaults({ slowRate: 1, slowDelay: '300ms' });
  const started = performance.now();
  t.equal((await unary(client, {})).code, status.OK);
  t.ok(performance.now() - started >= 290, 'a slow call waits the delay');
  t.equal((await unary(client, {}, 100)).code, status.DEADLINE_EXCEEDED, 'the caller\'s deadline cuts a slow call short');

  await backend.setFaults({ slowRate: 0, hang: true });
  t.equal((await unary(client, {}, 300)).code, status.DEADLINE_EXCEEDED, 'a hung call is never answered');
  await backend.setFaults({ hang: false });
  t.equal((await unary(client, {})).code, status.OK, 'the same connection answers again');
  await waitFor(async () => (await backend.stats()).inFlight === 0, 5000, 'abandoned calls to be closed');
});

t.test('health: NOT_SERVING while warming up, SERVING after; unknown services are NOT_FOUND', async (t) => {
  const warming = await grpcBackend(t, { readyDelay: '10m' });
  const ready = await grpcBackend(t);
  const warmingClient = demoClient(warming.address);
  const readyClient = demoClient(ready.address);
  t.teardown(() => {
    warmingClient.close();
    readyClient.close();
  });
  t.same(await healthCheck(warmingClient), { code: status.OK, status: 'NOT_SERVING' });
  t.same(await healthCheck(readyClient), { code: status.OK, status: 'SERVING' });
  t.same(await healthCheck(readyClient, 'breakwater.demo.Demo'), { code: status.OK, status: 'SERVING' });
  t.same(await healthCheck(readyClient, 'other.Service'), { code: status.NOT_FOUND });
});

t.test('crash and freeze: what a client sees', async (t) => {
  const backend = await grpcBackend(t);
  const client = demoClient(backend.address);
  t.teardown(() => client.close());
  t.equal((await unary(client, {})).code, status.OK);

  backend.kill('SIGSTOP');
  t.equal((await unary(client, {}, 300)).code, status.DEADLINE_EXCEEDED, 'a frozen replica keeps the connection and answers nothing');
  backend.kill('SIGCONT');
  t.equal((await unary(client, {})).code, status.OK, 'thawed, it answers on the same connection');

  backend.kill('SIGKILL');
  await backend.exited;
  t.equal((await unary(client, {}, 2000)).code, status.UNAVAILABLE, 'a crashed replica is UNAVAILABLE');
});

t.test('--grpc takes on or off', async (t) => {
  await t.rejects(startBackend({ env: { BACKEND_GRPC: 'yes' }, startTimeoutMs: 10_000 }), /--grpc \(BACKEND_GRPC\) must be on or off, got "yes"/);
});
