import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mock } from 'node:test';
import { DnsDiscovery } from '../../../proxy/discovery/dns.js';

type Answer = string[] | Error;

/** A resolver that plays back scripted answers, repeating the last one, and counts its calls. */
function scriptedResolver(answers: Answer[]) {
  const state = { calls: 0, names: [] as string[] };
  const resolve = async (name: string): Promise<string[]> => {
    state.names.push(name);
    const answer = answers[Math.min(state.calls, answers.length - 1)]!;
    state.calls += 1;
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { state, resolve };
}

/**
 * Mocked timers (refreshes happen exactly when the test ticks the clock) and a resolver whose second call, the first
 * refresh, stays in flight until the test releases it; every other call answers 10.0.0.1.
 */
function heldRefresh(t: Test) {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.teardown(() => mock.timers.reset());
  const state = { calls: 0, release: (_addresses: string[]) => {} };
  const resolve = (): Promise<string[]> => {
    state.calls += 1;
    return state.calls === 2 ? new Promise((done) => (state.release = done)) : Promise.resolve(['10.0.0.1']);
  };
  return { state, resolve };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

t.test('first resolution gives every address as a sorted, de-duplicated ip:port list', async (t) => {
  const { resolve, state } = scriptedResolver([['10.0.0.9', '10.0.0.1', 'fd00::2', '10.0.0.9']]);
  const discovery = new DnsDiscovery({ name: 'backend-headless', port: 8080, refreshMs: 60_000, timeoutMs: 60_000, resolve });
  t.teardown(() => discovery.stop());
  const endpoints = await discovery.start(() => t.fail('no change expected'));
  t.same(endpoints, ['10.0.0.1:8080', '10.0.0.9:8080', '[fd00::2]:8080']);
  t.same(state.names, ['backend-headless']);
});

t.test('a failed or empty first resolution gives no endpoints, and discovery retries until DNS answers', async (t) => {
  const { resolve, state } = scriptedResolver([Object.assign(new Error('getaddrinfo ENOTFOUND backend-headless'), { code: 'ENOTFOUND' }), [], ['10.0.0.1']]);
  const failures: Array<[string, string]> = [];
  const changes: string[][] = [];
  const discovery = new DnsDiscovery({ name: 'backend-headless', port: 80, refreshMs: 5, timeoutMs: 60_000, resolve, onError: (err, reason) => failures.push([reason, err.message]) });
  t.teardown(() => discovery.stop());
  t.same(await discovery.start((endpoints) => changes.push(endpoints)), [], 'start returns no endpoints instead of rejecting');
  await waitFor(() => changes.length === 1, 'the name to resolve on a retry');
  t.same(changes, [['10.0.0.1:80']]);
  t.equal(state.calls, 3);
  t.same(failures, [
    ['not-found', 'dns discovery: backend-headless lookup failed: getaddrinfo ENOTFOUND backend-headless; no endpoints yet, retrying'],
    ['not-found', 'dns discovery: backend-headless resolved to no addresses; no endpoints yet, retrying'],
  ]);
});

t.test('while no address is known, retries back off from 250 ms, doubling up to the refresh interval', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.teardown(() => mock.timers.reset());
  const { resolve, state } = scriptedResolver([new Error('SERVFAIL')]);
  const discovery = new DnsDiscovery({ name: 'svc', port: 80, refreshMs: 1000, timeoutMs: 60_000, resolve });
  t.teardown(() => discovery.stop());
  await discovery.start(() => {});
  const gaps: number[] = [];
  for (let elapsed = 0, calls = state.calls; gaps.length < 4; ) {
    await new Promise((resolve) => setImmediate(resolve));
    mock.timers.tick(50);
    elapsed += 50;
    await new Promise((resolve) => setImmediate(resolve));
    if (state.calls > calls) {
      gaps.push(elapsed);
      elapsed = 0;
      calls = state.calls;
    }
  }
  t.same(gaps, [250, 500, 1000, 1000]);
});

t.test('failures are labelled with a reason from a small fixed set', async (t) => {
  const answers = [
    Object.assign(new Error('queryA ENODATA svc'), { code: 'ENODATA' }),
    Object.assign(new Error('getaddrinfo EAI_AGAIN svc'), { code: 'EAI_AGAIN' }),
    Object.assign(new Error('getaddrinfo EAI_FAIL svc'), { code: 'EAI_FAIL' }),
    ['10.0.0.1'],
  ];
  const { resolve } = scriptedResolver(answers);
  const reasons: string[] = [];
  const discovery = new DnsDiscovery({ name: 'svc', port: 80, refreshMs: 5, timeoutMs: 60_000, resolve, onError: (_err, reason) => reasons.push(reason) });
  t.teardown(() => discovery.stop());
  const changes: string[][] = [];
  await discovery.start((endpoints) => changes.push(endpoints));
  await waitFor(() => changes.length === 1, 'the name to resolve');
  t.same(reasons, ['not-found', 'timeout', 'error']);
});

t.test('a lookup that hangs times out, and later refreshes wait on it instead of starting more lookups', async (t) => {
  const state = { calls: 0, answer: ['10.0.0.1'], release: (_addresses: string[]) => {} };
  const resolve = (): Promise<string[]> => {
    state.calls += 1;
    return state.calls === 2 ? new Promise((done) => (state.release = done)) : Promise.resolve(state.answer);
  };
  const failures: Array<[string, string]> = [];
  const changes: string[][] = [];
  const discovery = new DnsDiscovery({ name: 'svc', port: 80, refreshMs: 5, timeoutMs: 20, resolve, onError: (err, reason) => failures.push([reason, err.message]) });
  t.teardown(() => discovery.stop());
  await discovery.start((endpoints) => changes.push(endpoints));
  await waitFor(() => failures.length >= 3, 'refreshes to time out while the resolver hangs');
  t.equal(state.calls, 2, 'one hung lookup; the refreshes after it waited on it');
  t.same(failures[0], ['timeout', 'dns discovery: svc lookup timed out after 20 ms; keeping the last 1 known endpoint(s)']);
  // The late answer is used if a refresh is waiting on it; a refresh after it asks again, and gets the same.
  state.answer = ['10.0.0.2'];
  state.release(['10.0.0.2']);
  await waitFor(() => changes.length === 1, 'the new answer to be used');
  t.same(changes, [['10.0.0.2:80']]);
});

t.test('onChange fires only when the set of endpoints changes, not when the order does', async (t) => {
  const { resolve, state } = scriptedResolver([
    ['10.0.0.1', '10.0.0.2'],
    ['10.0.0.2', '10.0.0.1'],
    ['10.0.0.1', '10.0.0.2'],
    ['10.0.0.2', '10.0.0.3'],
  ]);
  const discovery = new DnsDiscovery({ name: 'svc', port: 8080, refreshMs: 5, timeoutMs: 60_000, resolve });
  t.teardown(() => discovery.stop());
  const changes: string[][] = [];
  await discovery.start((endpoints) => changes.push(endpoints));
  await waitFor(() => changes.length === 1, 'the changed set to be reported');
  const callsAtChange = state.calls;
  t.same(changes, [['10.0.0.2:8080', '10.0.0.3:8080']]);
  t.equal(callsAtChange, 4, 'the reorderings in between did not report a change');
  await waitFor(() => state.calls >= callsAtChange + 3, 'more refreshes of the same answer');
  t.equal(changes.length, 1, 'repeating the same answer reports nothing');
});

t.test('failed and empty refreshes keep the last good set and are reported', async (t) => {
  const { resolve, state } = scriptedResolver([
    ['10.0.0.1', '10.0.0.2'],
    new Error('SERVFAIL'),
    [],
    ['10.0.0.2'],
  ]);
  const errors: string[] = [];
  const changes: string[][] = [];
  const discovery = new DnsDiscovery({ name: 'svc', port: 9000, refreshMs: 5, timeoutMs: 60_000, resolve, onError: (err) => errors.push(err.message) });
  t.teardown(() => discovery.stop());
  await discovery.start((endpoints) => changes.push(endpoints));
  await waitFor(() => changes.length === 1, 'recovery after the failures');
  t.equal(state.calls, 4);
  t.same(changes, [['10.0.0.2:9000']], 'neither the failure nor the empty answer removed endpoints');
  t.equal(errors.length, 2);
  t.match(errors[0], /svc lookup failed: SERVFAIL; keeping the last 2 known endpoint/);
  t.match(errors[1], /svc resolved to no addresses; keeping the last 2 known endpoint/);
});

t.test('stop ends refreshing, and discards the answer of a refresh in flight', async (t) => {
  const { state, resolve } = heldRefresh(t);
  const errors: Error[] = [];
  const changes: string[][] = [];
  const discovery = new DnsDiscovery({ name: 'svc', port: 80, refreshMs: 1000, timeoutMs: 60_000, resolve, onError: (err) => errors.push(err) });
  await discovery.start((endpoints) => changes.push(endpoints));
  mock.timers.tick(1000);
  t.equal(state.calls, 2, 'a refresh is in flight');
  discovery.stop();
  state.release(['10.0.0.2']);
  await new Promise((resolve) => setImmediate(resolve));
  mock.timers.tick(5000);
  t.equal(state.calls, 2, 'no refresh after stop');
  t.same(changes, [], 'the in-flight answer is not reported after stop');
  t.same(errors, []);
});

t.test('stop then start while a refresh is in flight keeps a single refresh chain', async (t) => {
  const { state, resolve } = heldRefresh(t);
  const discovery = new DnsDiscovery({ name: 'svc', port: 80, refreshMs: 1000, timeoutMs: 60_000, resolve });
  t.teardown(() => discovery.stop());
  await discovery.start(() => {});
  mock.timers.tick(1000);
  t.equal(state.calls, 2, 'a refresh is in flight');
  discovery.stop();
  await discovery.start(() => {});
  t.equal(state.calls, 3, 'the restart resolved once');
  state.release(['10.0.0.2']);
  await new Promise((resolve) => setImmediate(resolve));
  mock.timers.tick(1000);
  t.equal(state.calls, 4, 'one refresh per period: the stale in-flight refresh scheduled nothing');
  await new Promise((resolve) => setImmediate(resolve));
  mock.timers.tick(1000);
  t.equal(state.calls, 5);
});

t.test('the default resolver uses the system resolver (localhost)', async (t) => {
  const discovery = new DnsDiscovery({ name: 'localhost', port: 15001, refreshMs: 60_000, timeoutMs: 60_000 });
  t.teardown(() => discovery.stop());
  const endpoints = await discovery.start(() => {});
  t.ok(endpoints.length > 0);
  t.ok(
    endpoints.every((endpoint) => endpoint === '127.0.0.1:15001' || endpoint === '[::1]:15001'),
    `localhost gives loopback endpoints: ${endpoints.join(', ')}`,
  );
});

t.test('the refresh timer does not keep the process alive', async (t) => {
  const script = `
    import { DnsDiscovery } from './proxy/discovery/dns.js';
    const discovery = new DnsDiscovery({ name: 'svc', port: 80, refreshMs: 1000, timeoutMs: 60_000, resolve: async () => ['10.0.0.1'] });
    await discovery.start(() => {});
    console.log('started');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../../../dist/', import.meta.url), stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process still alive after 10 s; output: ${output}`)), 10_000);
    child.on('exit', (code) => { clearTimeout(timer); resolve(code); });
  });
  t.equal(exitCode, 0, output);
  t.match(output, /started/);
});

t.test('bad options are rejected with the field named', async (t) => {
  t.throws(() => new DnsDiscovery({ name: '', port: 80, refreshMs: 10, timeoutMs: 60_000 }), /name must be a non-empty/);
  t.throws(() => new DnsDiscovery({ name: 'svc', port: 0, refreshMs: 10, timeoutMs: 60_000 }), /svc: port must be an integer 1-65535, got 0/);
  t.throws(() => new DnsDiscovery({ name: 'svc', port: 80, refreshMs: 0, timeoutMs: 60_000 }), /svc: refreshMs must be a positive number, got 0/);
  t.throws(() => new DnsDiscovery({ name: 'svc', port: 80, refreshMs: 10, timeoutMs: 0 }), /svc: timeoutMs must be a positive number, got 0/);
});

t.test('start twice without stop is refused', async (t) => {
  const discovery = new DnsDiscovery({ name: 'svc', port: 80, refreshMs: 60_000, timeoutMs: 60_000, resolve: async () => ['10.0.0.1'] });
  t.teardown(() => discovery.stop());
  await discovery.start(() => {});
  await t.rejects(discovery.start(() => {}), /svc: already started/);
});
