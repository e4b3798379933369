import t from 'tap';
import { request } from 'undici';
import { startBackend, type RunningBackend } from '../../helpers/demo-backend.js';

let backend: RunningBackend;
t.before(async () => {
  backend = await startBackend();
});
t.beforeEach(() => backend.reset());
t.teardown(() => backend.stop());

interface OrderAnswer {
  id: string;
  duplicate: boolean;
  details: unknown;
}

async function placeOrder(url: string, idempotencyKey?: string): Promise<{ status: number; order: OrderAnswer }> {
  const response = await request(`${url}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    body: JSON.stringify({ item: 'rope', quantity: 2 }),
  });
  return { status: response.statusCode, order: (await response.body.json()) as OrderAnswer };
}

t.test('without Idempotency-Key every POST creates a new order', async (t) => {
  const first = await placeOrder(backend.url);
  const second = await placeOrder(backend.url);
  t.equal(first.status, 201);
  t.equal(second.status, 201);
  t.not(first.order.id, second.order.id);
  t.same(first.order.details, { item: 'rope', quantity: 2 });
  t.same((await backend.stats()).orders, { accepted: 2, duplicates: 0 });
});

t.test('the same Idempotency-Key twice records one order and one duplicate', async (t) => {
  const first = await placeOrder(backend.url, 'key-1');
  const replay = await placeOrder(backend.url, 'key-1');
  t.equal(first.status, 201);
  t.equal(replay.status, 200, 'the replay is answered with the original order');
  t.equal(replay.order.id, first.order.id);
  t.equal(replay.order.duplicate, true);
  const stats = await backend.stats();
  t.same(stats.orders, { accepted: 1, duplicates: 1 });
  t.equal(stats.requests.byRoute['POST /api/orders'], 2);

  await backend.reset();
  t.same((await backend.stats()).orders, { accepted: 0, duplicates: 0 }, 'reset zeroes the counters');
  t.equal((await placeOrder(backend.url, 'key-1')).status, 201, 'and forgets the keys');
});

t.test('failNext rejects the write before it is recorded', async (t) => {
  await backend.setFaults({ failNext: 1 });
  t.equal((await placeOrder(backend.url, 'key-2')).status, 500);
  t.equal((await placeOrder(backend.url, 'key-2')).status, 201);
  t.same((await backend.stats()).orders, { accepted: 1, duplicates: 0 });
});
