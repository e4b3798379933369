// The chart's pods, run: `helm template` of the demo release, then its pods started on podman from the rendered specs
// (pod-runner.ts) on a pod network of their own with no route out. The backend pods answer behind the headless
// Service's name, the client pod's app reaches them through its sidecar on the pod's loopback, every probe as rendered
// succeeds, the chart's own `helm test` pod passes, and an edit of the mounted ConfigMap hot-reloads. Both sidecar
// renderings run: native (Kubernetes >= 1.29) and legacy (a container whose postStart hook holds the app).
import t, { type Test } from 'tap';
import { NAMESPACE, RELEASE, render, type Manifest, type RenderOptions } from '../chart/helm.js';
import { find, podTemplate, type PodSpec } from '../chart/manifests.js';
import { ConfigMapDir } from './configmap-dir.js';
import { containerTestsCanRun, leftovers, podman, podmanOk, runName } from './podman.js';
import { runPod, type RunningPod } from './pod-runner.js';

const CLIENT = `${RELEASE}-demo-client`;
const BACKEND = `${RELEASE}-demo-backend`;
const POLICY_CONFIGMAP = `${RELEASE}-policy`;
const CLUSTER_DOMAIN = 'cluster.local';
// Faults off: this checks the wiring, not the resilience.
const FAULTS_OFF = ['demoBackend.faults.failureRate=0', 'demoBackend.faults.slowRate=0'];
const VARIANTS: Array<{ name: string; sidecarIn: 'initContainers' | 'containers'; render: RenderOptions }> = [
  { name: 'native sidecar (Kubernetes 1.33)', sidecarIn: 'initContainers', render: { kubeVersion: '1.33.0', set: FAULTS_OFF } },
  { name: 'legacy sidecar (Kubernetes 1.28)', sidecarIn: 'containers', render: { kubeVersion: '1.28.0', set: FAULTS_OFF } },
];

const specOf = (manifests: Manifest[], kind: string, name: string): PodSpec => podTemplate(find(manifests, kind, name)).spec;

/** Runs the release's pods as rendered with `opts` and checks them; everything made is removed when `t` ends. */
async function runRelease(t: Test, name: string, sidecarIn: 'initContainers' | 'containers', opts: RenderOptions) {
  const manifests = render(opts);
  const prefix = runName(name);
  const network = prefix;
  podmanOk(['network', 'create', '--internal', network]);
  t.teardown(() => { podman(['network', 'rm', '--force', network]); });
  const policyText = (find(manifests, 'ConfigMap', POLICY_CONFIGMAP).data as Record<string, string>)['breakwater.yaml']!;
  const policy = new ConfigMapDir({ 'breakwater.yaml': policyText });
  t.teardown(() => policy.remove());
  const pods: RunningPod[] = [];
  t.teardown(() => { for (const pod of pods.splice(0).reverse()) pod.remove(); });
  const start = async (pod: string, spec: PodSpec, hosts: Array<[string, string]> = []) => {
    const running = await runPod(`${prefix}-${pod}`, spec, {
      namespace: NAMESPACE, network, hosts, configMaps: { [POLICY_CONFIGMAP]: policy },
    });
    pods.push(running);
    return running;
  };

  // In the order a cluster makes them ready: backends, then the client, which finds the ready ones by DNS.
  const backends: RunningPod[] = [];
  const { replicas } = find(manifests, 'Deployment', BACKEND).spec as { replicas: number };
  for (let i = 0; i < replicas; i++) {
    const backend = await start(`${BACKEND}-${i}`, specOf(manifests, 'Deployment', BACKEND));
    await backend.probeUntilSuccess('demo-backend', 'readinessProbe');
    backends.push(backend);
  }
  // The headless Service's DNS answer: every ready backend pod's address.
  const headless = `${find(manifests, 'Service', `${BACKEND}-headless`).metadata.name}.${NAMESPACE}.svc.${CLUSTER_DOMAIN}`;
  t.ok(policyText.includes(headless), `the policy's upstream resolves ${headless}`);
  const clientSpec = specOf(manifests, 'Deployment', CLIENT);
  t.ok(clientSpec[sidecarIn]?.some((c) => c.name === 'breakwater'), `the sidecar is rendered under ${sidecarIn}`);
  const client = await start(CLIENT, clientSpec, backends.map((b) => [headless, b.ip()]));

  await t.test('every container\'s readiness and liveness probes, as rendered, succeed', async (t) => {
    for (const pod of [...backends, client]) {
      for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
        for (const kind of ['readinessProbe', 'livenessProbe'] as const) {
          if (!c[kind]) continue;
          const result = await pod.probeUntilSuccess(c.name, kind);
          t.equal(result.status, 200, `${pod.name}/${c.name} ${kind} ${JSON.stringify(c[kind]?.httpGet)}`);
        }
      }
    }
  });

  await t.test('the app reaches both backend pods through its sidecar on the pod\'s loopback', async (t) => {
    const url = clientSpec.containers.find((c) => c.name === 'demo-client')!.env!.find((e) => e.name === 'DEMO_CLIENT_URL')!.value!;
    // From inside the app's container, as the app calls it.
    const script = `const out = []; for (let i = 0; i < 10; i++) { const r = await fetch(${JSON.stringify(url)});
      await r.arrayBuffer(); out.push([r.status, r.headers.get('x-backend-replica')]); } console.log(JSON.stringify(out));`;
    const answers = JSON.parse(podmanOk(['exec', client.container('demo-client'), 'node', '--input-type=module', '-e', script])) as Array<[number, string]>;
    t.same(answers.filter(([status]) => status !== 200), [], `all 200 through ${url}`);
    t.same(new Set(answers.map(([, replica]) => replica)), new Set(backends.map((b) => b.name)), 'answered by both backend pods');
    const stats = await client.pod.waitFor(`http://${client.ip()}:8080/stats`, 'the demo client counts successes', 30_000, /"ok":[1-9]/);
    t.ok(stats, 'the demo client\'s own steady load succeeds through the sidecar');
  });

  await t.test('the chart\'s `helm test` pod passes against the running pods', async (t) => {
    const testPod = manifests.find((m) => m.kind === 'Pod' && m.metadata.annotations?.['helm.sh/hook'] === 'test')!;
    // The client Service's name resolves to the client pod (one replica), as the Service's ClusterIP would route.
    const running = await start('helm-test', podTemplate(testPod).spec, [[CLIENT, client.ip()]]);
    const container = running.container(running.spec.containers[0]!.name);
    const exit = podmanOk(['wait', container], 120_000);
    t.equal(exit, '0', `helm test container exits 0: ${running.pod.logs(container)}`);
  });

  await t.test('an edit of the mounted ConfigMap reaches the running sidecar by hot reload', async (t) => {
    const sidecar = client.container('breakwater');
    const startedAt = podmanOk(['inspect', '--format', '{{.State.StartedAt}}', sidecar]);
    const metrics = `http://${client.ip()}:9901/metrics`;
    await client.pod.waitFor(metrics, 'generation 1 before the edit', 10_000, /^breakwater_config_generation 1$/m);
    t.match(policyText, /timeout: 3s/);
    const swapped = Date.now();
    policy.update({ 'breakwater.yaml': policyText.replace('timeout: 3s', 'timeout: 4s') });
    // The proxy watches the directory; its slow poll (10 s) would also find the change, so allow for that.
    await client.pod.waitFor(metrics, 'generation 2 after the edit', 30_000, /^breakwater_config_generation 2$/m);
    t.comment(`hot reload in the pod: generation 2 served within ${Date.now() - swapped} ms of the ..data swap`);
    const [config] = await client.pod.get(`http://${client.ip()}:9901/config`);
    t.match(config?.body, /"timeout":"4s"/, 'its /config shows the edit');
    t.equal(podmanOk(['inspect', '--format', '{{.State.StartedAt}}', sidecar]), startedAt, 'without a restart');
  });
}

if (containerTestsCanRun(t)) {
  for (const [i, variant] of VARIANTS.entries()) {
    t.test(variant.name, (t) => runRelease(t, `chart${i}`, variant.sidecarIn, variant.render));
  }

  t.test('leaves no container or network behind', async (t) => {
    t.same(leftovers(), []);
  });
}
