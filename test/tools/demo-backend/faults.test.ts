import t from 'tap';
import { request } from 'undici';
import { startBackend, type RunningBackend } from '../../helpers/demo-backend.js';

// One process for the file (spawns are the slow part); every test starts from the start-up state: faults off.
let backend: RunningBackend;
t.before(async () => {
  backend = await startBackend({ name: 'replica-a' });
});
t.beforeEach(() => backend.reset());
t.teardown(() => backend.stop());

/** Status codes of `count` sequential GETs. */
async function statuses(url: string, count: number): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await request(url);
    await response.body.dump();
    seen.push(response.statusCode);
  }
  return seen;
}

t.test('faults off: every /api/data answers 200 fast, naming the replica', async (t) => {
  t.same(await statuses(`${backend.url}/api/data`, 50), Array(50).fill(200));
  const response = await request(`${backend.url}/api/data`);
  t.equal(response.headers['x-backend-replica'], 'replica-a');
  t.equal(((await response.body.json()) as { replica: string }).replica, 'replica-a');
  t.equal(backend.name, 'replica-a');
});

t.test('failNext 2: exactly two failures with failureStatus, then success', async (t) => {
  const faults = await backend.setFaults({ failNext: 2, failureStatus: 503 });
  t.equal(faults.failNext, 2);
  t.same(await statuses(`${backend.url}/api/data`, 5), [503, 503, 200, 200, 200]);
  t.equal((await backend.setFaults({})).failNext, 0, 'the countdown is used up');
});

t.test('a seeded failure rate gives the same status sequence on every run', async (t) => {
  const seeded = await startBackend({ seed: 1234, failureRate: 0.5 });
  t.teardown(() => seeded.stop());
  const run = await statuses(`${seeded.url}/api/data`, 40);
  t.ok(run.includes(200) && run.includes(500), `both outcomes occur: ${run.join(',')}`);
  await seeded.reset();
  t.same(await statuses(`${seeded.url}/api/data`, 40), run, 'reset restarts the start-up sequence');

  // Another process, seeded at run time, replays it.
  await backend.setFaults({ seed: 1234, failureRate: 0.5 });
  t.same(await statuses(`${backend.url}/api/data`, 40), run, 'same seed, same sequence');
});

t.test('transient: 429 with Retry-After in whole seconds', async (t) => {
  await backend.setFaults({ transientRate: 1, retryAfter: '1500ms' });
  const throttled = await request(`${backend.url}/api/transient`);
  await throttled.body.dump();
  t.equal(throttled.statusCode, 429);
  t.equal(throttled.headers['retry-after'], '2', '1500ms rounds up to 2 s');

  await backend.setFaults({ transientRate: 0 });
  t.same(await statuses(`${backend.url}/api/transient`, 5), Array(5).fill(200));
});

t.test('slow: a slowRate of 1 delays /api/data by slowDelay', async (t) => {
  await backend.setFaults({ slowRate: 1, slowDelay: '300ms' });
  const started = performance.now();
  t.same(await statuses(`${backend.url}/api/data`, 1), [200]);
  t.ok(performance.now() - started >= 290, 'the answer waited for the injected delay');
});

t.test('hang: the request is counted on arrival and never answered', async (t) => {
  await backend.setFaults({ hang: true });

  const abandoned = new AbortController();
  const hung = request(`${backend.url}/api/data`, { signal: abandoned.signal }).then(
    () => 'answered',
    () => 'aborted',
  );
  const deadline = Date.now() + 5_000;
  let stats = await backend.stats();
  while (stats.requests.total < 1 && Date.now() < deadline) stats = await backend.stats();
  t.equal(stats.requests.byRoute['GET /api/data'], 1, 'the request reached the backend');
  t.equal(stats.inFlight, 1, 'and is still open');

  const outcome = await Promise.race([hung, new Promise((resolve) => setTimeout(resolve, 500, 'still waiting'))]);
  t.equal(outcome, 'still waiting', 'no answer within 500 ms');
  abandoned.abort();
  t.equal(await hung, 'aborted');

  await backend.setFaults({ hang: false });
  t.same(await statuses(`${backend.url}/api/data`, 1), [200], 'answers again once hang is off');
});

t.test('bad admin input: 400 naming the field, settings unchanged', async (t) => {
  const before = await backend.setFaults({});
  const cases: [unknown, string][] = [
    [{ failureRate: 1.5 }, 'failureRate'],
    [{ slowDelay: 'soon' }, 'slowDelay'],
    [{ failureStatus: 200 }, 'failureStatus'],
    [{ failNext: -1 }, 'failNext'],
    [{ hang: 'yes' }, 'hang'],
    [{ failureRat: 0.1 }, 'failureRat'],
    [[1], 'body'],
  ];
  for (const [body, field] of cases) {
    const response = await request(`${backend.url}/admin/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.body.json()) as { field: string; error: string };
    t.equal(response.statusCode, 400, `${JSON.stringify(body)} is rejected`);
    t.equal(answer.field, field);
    t.match(answer.error, field);
  }
  t.same(await backend.setFaults({}), before);
  t.same((await backend.setFaults({ slowDelay: '2s', retryAfter: 3 })).slowDelay, 2000, 'durations as text are accepted');
});
