import t from 'tap';
import { KubernetesTarget } from '../../../../chaos/environments/kubernetes/kubernetes-api.js';
import { startStubApi, type StubPod } from './stub-api.js';

const NS = 'breakwater-demo';
const SELECTOR = 'app.kubernetes.io/component=demo-backend,app.kubernetes.io/instance=breakwater-demo';
const BACKEND = { 'app.kubernetes.io/component': 'demo-backend', 'app.kubernetes.io/instance': 'breakwater-demo' };

function backends(): StubPod[] {
  return [
    { name: 'backend-a', labels: BACKEND, ready: true, ip: '10.0.0.11' },
    { name: 'backend-b', labels: BACKEND, ready: true, ip: '10.0.0.12' },
    { name: 'backend-old', labels: BACKEND, ready: true, terminating: true },
    { name: 'client-x', labels: { ...BACKEND, 'app.kubernetes.io/component': 'demo-client' }, ready: true },
  ];
}

async function setup(t: { teardown(fn: () => unknown): void }, pods = backends()) {
  const stub = await startStubApi(pods);
  t.teardown(() => stub.close());
  const target = new KubernetesTarget({ namespace: NS, selector: SELECTOR, pollIntervalMs: 20 }, stub.kubeConfig());
  return { stub, target };
}

t.test('listPods asks for the selector in the namespace and leaves out terminating pods', async (t) => {
  const { stub, target } = await setup(t);
  t.same(await target.listPods(), [
    { name: 'backend-a', ready: true, ip: '10.0.0.11' },
    { name: 'backend-b', ready: true, ip: '10.0.0.12' },
  ]);
  t.match(stub.seen, [{ method: 'GET', path: `/api/v1/namespaces/${NS}/pods`, query: { labelSelector: SELECTOR } }]);
});

t.test("kill('one') deletes the pod the rng picks, with the grace period asked for", async (t) => {
  const { stub, target } = await setup(t);
  t.same(await target.kill('one', { rng: () => 0.99, gracePeriodSeconds: 0 }), ['backend-b']);
  const deletes = stub.seen.filter((r) => r.method === 'DELETE');
  t.match(deletes, [{ path: `/api/v1/namespaces/${NS}/pods/backend-b`, query: { gracePeriodSeconds: '0' } }]);
  t.same(stub.pods.map((p) => p.name), ['backend-a', 'backend-old', 'client-x'], 'only that pod was deleted');
});

t.test("kill('all') deletes every matching live pod and nothing else", async (t) => {
  const { stub, target } = await setup(t);
  t.same((await target.kill('all')).sort(), ['backend-a', 'backend-b']);
  t.same(stub.seen.filter((r) => r.method === 'DELETE').map((r) => r.path).sort(), [
    `/api/v1/namespaces/${NS}/pods/backend-a`,
    `/api/v1/namespaces/${NS}/pods/backend-b`,
  ]);
  t.same(stub.pods.map((p) => p.name), ['backend-old', 'client-x']);
});

t.test('kill with nothing to kill says what it looked for', async (t) => {
  const { target } = await setup(t, []);
  await t.rejects(target.kill('one'), /no pods to kill: none matching "app\.kubernetes\.io\/component=demo-backend,.*" in namespace breakwater-demo/);
});

t.test('waitReady resolves once the replacements of killed pods are ready', async (t) => {
  const { stub, target } = await setup(t);
  let listsUntilReady = 3;
  stub.onDelete = (pod) => stub.pods.push({ ...pod, name: `${pod.name}-new`, ready: false });
  stub.onList = () => {
    if (--listsUntilReady === 0) for (const pod of stub.pods) pod.ready = true;
  };
  await target.kill('all');
  await target.waitReady(2, 5_000);
  t.same((await target.listPods()).map((p) => p.name).sort(), ['backend-a-new', 'backend-b-new']);
  t.ok(stub.seen.filter((r) => r.method === 'GET').length >= 3, 'it polled until they were ready');
});

t.test('waitReady gives up at its deadline naming the pods it saw', async (t) => {
  const { target } = await setup(t, [{ name: 'backend-a', labels: BACKEND, ready: false }]);
  await t.rejects(target.waitReady(2, 200), /waited 200 ms for 2 ready pods matching .* in namespace breakwater-demo; last saw: backend-a \(not ready\)/);
});

t.test('an API refusal surfaces with its HTTP code and the server message', async (t) => {
  const { stub, target } = await setup(t);
  stub.forbidden.add(NS);
  await t.rejects(target.listPods(), /listing pods matching .* failed: HTTP 403: pods is forbidden/);
});
