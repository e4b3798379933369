import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseDuration } from '../../../proxy/config/duration.js';
import { chartDir, lint, NAMESPACE, RELEASE, render, renderError, type Manifest, type RenderOptions } from './helm.js';
import { validateManifest } from './k8s-schemas.js';
import { allContainers, container, envValue, find, podTemplate, workloads, type PodSpec } from './manifests.js';

const CLIENT = `${RELEASE}-demo-client`;
const BACKEND = `${RELEASE}-demo-backend`;
const HEADLESS = `${RELEASE}-demo-backend-headless`;
const POLICY_CONFIGMAP = `${RELEASE}-policy`;
const POLICY_PATH = '/etc/breakwater/breakwater.yaml';

const ciFiles = readdirSync(join(chartDir, 'ci')).filter((f) => f.endsWith('.yaml')).sort();

/** Every values set the chart must lint and render cleanly with. */
const valueSets: Array<{ name: string; opts: RenderOptions }> = [
  { name: 'defaults on Kubernetes 1.33', opts: { kubeVersion: '1.33.0' } },
  { name: 'defaults on Kubernetes 1.28', opts: { kubeVersion: '1.28.0' } },
  ...ciFiles.map((file) => ({ name: `ci/${file}`, opts: { valuesFiles: [join(chartDir, 'ci', file)] } })),
];

function policyOf(manifests: Manifest[]): { text: string; policy: Record<string, any> } {
  const text = (find(manifests, 'ConfigMap', POLICY_CONFIGMAP).data as Record<string, string>)['breakwater.yaml']!;
  return { text, policy: parse(text) as Record<string, any> };
}

const clientSpec = (manifests: Manifest[]): PodSpec => podTemplate(find(manifests, 'Deployment', CLIENT)).spec;

t.test('ci values files exist for each variant the brief names', async (t) => {
  for (const file of ['sidecar-off-values.yaml', 'native-sidecar-values.yaml', 'legacy-sidecar-values.yaml', 'monitors-values.yaml']) {
    t.ok(ciFiles.includes(file), `ci/${file}`);
  }
});

for (const { name, opts } of valueSets) {
  t.test(`${name}: lints strictly, renders, and every object validates`, async (t) => {
    const linted = lint(opts);
    t.equal(linted.status, 0, `helm lint --strict: ${linted.stdout}${linted.stderr}`);
    const manifests = render(opts);
    t.ok(manifests.length >= 6, `rendered ${manifests.length} objects`);
    for (const manifest of manifests) {
      const id = `${manifest.kind}/${manifest.metadata.name}`;
      t.doesNotThrow(() => validateManifest(manifest), id);
      t.equal(manifest.metadata.namespace, NAMESPACE, `${id} is namespaced in the release namespace`);
      const labels = manifest.metadata.labels ?? {};
      t.match(labels, {
        'app.kubernetes.io/name': 'breakwater',
        'app.kubernetes.io/instance': RELEASE,
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/version': String,
        'helm.sh/chart': /^breakwater-\d/,
      }, `${id} carries the standard labels`);
    }
    for (const workload of workloads(manifests)) {
      const { spec } = podTemplate(workload);
      t.equal(spec.securityContext?.runAsNonRoot, true, `${workload.metadata.name}: pod runs as non-root`);
      for (const c of allContainers(spec)) {
        const where = `${workload.metadata.name}/${c.name}`;
        t.match(c.securityContext, {
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        }, `${where}: hardened security context`);
        t.notOk(c.securityContext?.privileged, `${where}: not privileged`);
        t.notOk(c.securityContext?.capabilities?.add, `${where}: adds no capabilities`);
        t.notOk(c.volumeMounts?.some((m) => m.subPath), `${where}: no subPath mount (they never update)`);
      }
    }
  });
}

t.test('the client reaches the backend through its sidecar; only the URL changes', async (t) => {
  const on = clientSpec(render());
  t.equal(envValue(container(on, 'demo-client'), 'DEMO_CLIENT_URL'), 'http://127.0.0.1:15001/api/data');
  t.same(container(on, 'demo-client').command, ['node', 'dist/demo-client/main.js', 'serve']);
  t.equal(envValue(container(on, 'demo-client'), 'DEMO_CLIENT_PORT'), '8080');
  t.equal(envValue(container(on, 'demo-client'), 'DEMO_CLIENT_MODE'), 'none');

  const offManifests = render({ valuesFiles: [join(chartDir, 'ci', 'sidecar-off-values.yaml')] });
  const off = clientSpec(offManifests);
  t.equal(envValue(container(off, 'demo-client'), 'DEMO_CLIENT_URL'), `http://${BACKEND}:8080/api/data`);
  t.notOk(allContainers(off).some((c) => c.name === 'breakwater'), 'no sidecar when breakwater.enabled=false');
  t.notOk(offManifests.some((m) => m.metadata.name === POLICY_CONFIGMAP), 'no policy ConfigMap without the sidecar');
});

t.test('native sidecar from Kubernetes 1.29 on, a readiness-gating container before', async (t) => {
  for (const version of ['1.29.0', '1.33.0']) {
    const spec = clientSpec(render({ kubeVersion: version }));
    const sidecar = spec.initContainers?.find((c) => c.name === 'breakwater');
    t.equal(sidecar?.restartPolicy, 'Always', `${version}: init container with restartPolicy Always`);
    t.same(sidecar?.startupProbe?.httpGet, { path: '/readyz', port: 'bw-admin' }, `${version}: the app starts once /readyz passes`);
    t.notOk(spec.containers.some((c) => c.name === 'breakwater'), `${version}: not also a regular container`);
  }
  const legacy = clientSpec(render({ kubeVersion: '1.28.0' }));
  t.notOk(legacy.initContainers, '1.28: no init containers');
  t.equal(legacy.containers[0]?.name, 'breakwater', '1.28: the sidecar is the first container (started before the app)');
  t.notOk(legacy.containers[0]?.restartPolicy);
  t.match(legacy.containers[0]?.lifecycle?.postStart?.exec?.command, ['node', '--input-type=module', '-e', String, 'http://127.0.0.1:9901/readyz', '60']);

  const forcedLegacy = clientSpec(render({ kubeVersion: '1.33.0', set: ['breakwater.sidecarMode=legacy'] }));
  t.equal(forcedLegacy.containers[0]?.name, 'breakwater', 'sidecarMode=legacy overrides the detection');
  const forcedNative = clientSpec(render({ kubeVersion: '1.28.0', set: ['breakwater.sidecarMode=native'] }));
  t.equal(forcedNative.initContainers?.[0]?.restartPolicy, 'Always', 'sidecarMode=native overrides the detection');
});

t.test('the sidecar: command, probes, ports and resources', async (t) => {
  for (const kubeVersion of ['1.28.0', '1.33.0']) {
    const sidecar = container(clientSpec(render({ kubeVersion })), 'breakwater');
    t.same([...(sidecar.command ?? []), ...(sidecar.args ?? [])], ['breakwater', '--config', POLICY_PATH]);
    t.same(sidecar.ports, [{ name: 'bw-admin', containerPort: 9901, protocol: 'TCP' }], 'only the admin port is exposed');
    t.same(sidecar.readinessProbe?.httpGet, { path: '/readyz', port: 'bw-admin' });
    t.same(sidecar.livenessProbe?.httpGet, { path: '/healthz', port: 'bw-admin' });
    t.match(sidecar.resources, { requests: { cpu: String, memory: String }, limits: { memory: String } });
    t.equal(
      envValue(sidecar, 'NODE_OPTIONS'),
      '--max-semi-space-size=8 --max-old-space-size=160',
      'the young generation and the old generation\'s ceiling are set, not derived from the memory limit',
    );
  }
  const noOptions = container(clientSpec(render({ set: ['breakwater.nodeOptions='] })), 'breakwater');
  t.equal(noOptions.env, undefined, 'nodeOptions "" sets no environment at all');
  // `helm upgrade --reuse-values` from a release older than the value keeps the old values: no key at all.
  const absent = container(clientSpec(render({ set: ['breakwater.nodeOptions=null'] })), 'breakwater');
  t.equal(absent.env, undefined, 'a values set without nodeOptions renders, with no environment');
  const own = container(clientSpec(render({ set: ['breakwater.nodeOptions=--max-semi-space-size=16 --max-old-space-size=192'] })), 'breakwater');
  t.equal(envValue(own, 'NODE_OPTIONS'), '--max-semi-space-size=16 --max-old-space-size=192');
});

const MiB = 2 ** 20;
const QUANTITY_UNITS: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: MiB, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 };

/** Bytes of a Kubernetes memory quantity such as "256Mi" or "1G". */
function quantityBytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(quantity);
  if (!match) throw new Error(`unsupported memory quantity "${quantity}"`);
  return Number(match[1]) * QUANTITY_UNITS[match[2] ?? '']!;
}

// An idle Breakwater's RSS outside its V8 heap: the node binary, the libraries' code and native memory (measured:
// ~86 MB idle RSS, ~25 MB of it heap).
const NODE_OUTSIDE_HEAP_BYTES = 60 * MiB;

t.test("the sidecar's V8 heap ceiling fits inside its container memory limit", async (t) => {
  // Above the limit, the kernel kills the sidecar before V8 has collected hard; Node's own choice under 256Mi is ~280 MB.
  const sidecar = container(clientSpec(render()), 'breakwater');
  const memoryLimit = sidecar.resources?.limits?.memory;
  if (memoryLimit === undefined) throw new Error('the sidecar has no memory limit');
  const limit = quantityBytes(memoryLimit);
  const probe = spawnSync(process.execPath, ['-p', 'require("node:v8").getHeapStatistics().heap_size_limit'], {
    env: { ...process.env, NODE_OPTIONS: envValue(sidecar, 'NODE_OPTIONS') ?? '' },
    encoding: 'utf8',
  });
  t.equal(probe.status, 0, `node runs with the sidecar's NODE_OPTIONS: ${probe.stderr}`);
  const heapLimit = Number(probe.stdout);
  t.ok(
    heapLimit + NODE_OUTSIDE_HEAP_BYTES <= limit,
    `heap ceiling ${(heapLimit / MiB).toFixed(0)} MiB + ${NODE_OUTSIDE_HEAP_BYTES / MiB} MiB outside the heap <= limits.memory ${limit / MiB} MiB`,
  );
});

t.test('the policy ConfigMap is mounted as a directory holding the file the sidecar reads', async (t) => {
  const manifests = render();
  const spec = clientSpec(manifests);
  const mount = container(spec, 'breakwater').volumeMounts?.find((m) => POLICY_PATH.startsWith(`${m.mountPath}/`));
  t.ok(mount, 'a mount contains the policy path');
  t.equal(mount?.mountPath, '/etc/breakwater');
  t.notOk(mount?.subPath, 'a whole directory, not a subPath: ConfigMap edits reach the running sidecar');
  t.equal(spec.volumes?.find((v) => v.name === mount?.name)?.configMap?.name, POLICY_CONFIGMAP);
  const data = find(manifests, 'ConfigMap', POLICY_CONFIGMAP).data as Record<string, string>;
  t.same(Object.keys(data), ['breakwater.yaml'], 'the file name the sidecar is given');
});

t.test('hot reload by default; policyReload=rollout adds a checksum that follows the policy', async (t) => {
  const annotations = (opts: RenderOptions) => podTemplate(find(render(opts), 'Deployment', CLIENT)).metadata.annotations ?? {};
  t.notOk(annotations({})['checksum/breakwater-policy'], 'hot reload: policy edits do not restart pods');
  const first = annotations({ set: ['breakwater.policyReload=rollout'] })['checksum/breakwater-policy'];
  const changed = annotations({ set: ['breakwater.policyReload=rollout', 'breakwater.policy.log.level=debug'] })['checksum/breakwater-policy'];
  t.match(first, /^[0-9a-f]{64}$/);
  t.not(changed, first, 'a policy change changes the checksum, which rolls the pods');
});

t.test('the grace period covers the policy drain (delay + timeout)', async (t) => {
  for (const opts of [{}, { valuesFiles: [join(chartDir, 'ci', 'raw-policy-values.yaml')] }]) {
    const manifests = render(opts);
    const { policy } = policyOf(manifests);
    const drainMs = parseDuration(policy.drain.delay)! + parseDuration(policy.drain.timeout)!;
    const grace = clientSpec(manifests).terminationGracePeriodSeconds!;
    t.ok(grace * 1000 > drainMs, `grace ${grace}s > drain ${drainMs}ms`);
    t.ok(grace * 1000 <= drainMs + 30_000, `grace ${grace}s is not far beyond the drain`);
  }
});

t.test('the backend: replicas, headless discovery, labels chaos experiments select', async (t) => {
  const manifests = render();
  const backend = find(manifests, 'Deployment', BACKEND);
  const backendPods = podTemplate(backend);
  t.ok((backend.spec as { replicas: number }).replicas >= 2, 'at least two replicas');
  t.match(backendPods.metadata.labels, {
    'app.kubernetes.io/name': 'breakwater',
    'app.kubernetes.io/instance': RELEASE,
    'app.kubernetes.io/component': 'demo-backend',
  });
  t.match(podTemplate(find(manifests, 'Deployment', CLIENT)).metadata.labels, {
    'app.kubernetes.io/instance': RELEASE,
    'app.kubernetes.io/component': 'demo-client',
  });
  const selects = (selector: Record<string, string>) =>
    Object.entries(selector).every(([k, v]) => backendPods.metadata.labels[k] === v);
  t.ok(selects((backend.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels), 'Deployment selector');

  const headless = find(manifests, 'Service', HEADLESS).spec as { clusterIP: string; selector: Record<string, string>; ports: Array<{ port: number }> };
  t.equal(headless.clusterIP, 'None', 'headless: DNS returns every ready pod');
  t.ok(selects(headless.selector), 'headless Service selects the backend pods');
  const upstream = policyOf(manifests).policy.upstreams[0];
  t.same(upstream.dns, { name: `${HEADLESS}.${NAMESPACE}.svc.cluster.local`, port: headless.ports[0]!.port, refresh: '5s' },
    'the policy resolves the headless Service');

  const pdb = find(manifests, 'PodDisruptionBudget', BACKEND).spec as { minAvailable: number; selector: { matchLabels: Record<string, string> } };
  t.ok(selects(pdb.selector.matchLabels), 'the PDB covers the backend pods');
  t.ok(pdb.minAvailable < (backend.spec as { replicas: number }).replicas, 'the PDB still allows a voluntary eviction');

  const app = container(backendPods.spec, 'demo-backend');
  t.same(app.command, ['node', 'dist/demo-backend/main.js']);
  t.equal(envValue(app, 'BACKEND_HOST'), '0.0.0.0');
  t.equal(envValue(app, 'BACKEND_PORT'), '8080');
  t.equal(app.env?.find((e) => e.name === 'BACKEND_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name', 'replica name = pod name');
  t.same(app.readinessProbe?.httpGet, { path: '/readyz', port: 'http' });
  t.same(app.livenessProbe?.httpGet, { path: '/healthz', port: 'http' });
});

t.test('metrics: annotations by default, operator objects only when asked for', async (t) => {
  const defaults = render();
  t.match(podTemplate(find(defaults, 'Deployment', CLIENT)).metadata.annotations,
    { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9901', 'prometheus.io/path': '/metrics' });
  t.notOk(defaults.some((m) => m.apiVersion.startsWith('monitoring.coreos.com/')), 'no CRD objects by default');

  const monitored = render({ valuesFiles: [join(chartDir, 'ci', 'monitors-values.yaml')] });
  const podMonitor = find(monitored, 'PodMonitor', RELEASE);
  t.equal(podMonitor.metadata.labels?.release, 'kps', 'release label for kube-prometheus-stack');
  t.match(podMonitor.spec, { podMetricsEndpoints: [{ port: 'bw-admin', path: '/metrics' }, { port: 'http', path: '/metrics' }] });
  const rule = find(monitored, 'PrometheusRule', RELEASE).spec as { groups: Array<{ rules: Array<{ alert: string }> }> };
  t.same(rule.groups[0]!.rules.map((r) => r.alert),
    ['BreakwaterCircuitOpenTooLong', 'BreakwaterRetryBudgetExhausted', 'BreakwaterBulkheadRejections', 'BreakwaterInternalErrors']);

  const viaServices = render({ valuesFiles: [join(chartDir, 'ci', 'servicemonitor-values.yaml')] });
  const serviceMonitor = find(viaServices, 'ServiceMonitor', RELEASE).spec as { selector: { matchExpressions: unknown } };
  t.ok(serviceMonitor.selector.matchExpressions, 'skips the headless Service so backends are not scraped twice');
  t.notOk(podTemplate(find(viaServices, 'Deployment', CLIENT)).metadata.annotations, 'annotations off');
  t.match(find(viaServices, 'Service', CLIENT).spec, { ports: [{ name: 'http' }, { name: 'bw-admin', port: 9901 }] });
});

t.test('helm test pod checks requests through the sidecar', async (t) => {
  const testPod = render().find((m) => m.metadata.annotations?.['helm.sh/hook'] === 'test');
  t.ok(testPod, 'a helm test hook exists');
  const command = podTemplate(testPod!).spec.containers[0]!.command!;
  t.same(command.slice(4), [`http://${CLIENT}:8080/stats`, `http://${CLIENT}:9901`, '90']);
});

t.test('bad values fail with a message naming what is wrong', async (t) => {
  t.match(renderError({ set: ['demoBackend.faults.failureRate=2'] }), /demoBackend\/faults\/failureRate/);
  t.match(renderError({ set: ['breakwater.sidecarMode=sometimes'] }), /breakwater\/sidecarMode/);
  t.match(renderError({ set: ['breakwater.policy.typo=1'] }), /breakwater\/policy.*typo/);
  t.match(renderError({ set: ['unknownTopLevel=1'] }), /unknownTopLevel/);
  t.match(renderError({ set: ['breakwater.adminPort=9999'] }), /admin\.address "0\.0\.0\.0:9901" must listen on breakwater\.adminPort 9999/);
  t.match(renderError({ set: ['breakwater.listenerPort=15002'] }), /no listener on 127\.0\.0\.1:15002/);
  t.match(renderError({ set: ['breakwater.policyYaml=[1'] }), /breakwater policy: not a YAML mapping/);
  t.match(renderError({ set: ['demoBackend.replicas=1'] }), /minAvailable \(1\) must be below demoBackend\.replicas \(1\)/);
  t.match(renderError({ set: ['metrics.podMonitor.enabled=true', 'metrics.serviceMonitor.enabled=true'] }), /choose one/);
});
