// demo.grpc.enabled: the gRPC demo pair (two replicas on h2c, gRPC health probes, a ClusterIP and a headless
// Service) and the example sidecar route and upstream for it, rendered by the real helm; off by default.
import t from 'tap';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parsePolicy } from '../../../proxy/config/load.js';
import { chartDir, lint, NAMESPACE, RELEASE, render, renderError } from './helm.js';
import { validateManifest } from './k8s-schemas.js';
import { container, envValue, find, podTemplate } from './manifests.js';

const GRPC = `${RELEASE}-demo-grpc`;
const HEADLESS = `${RELEASE}-demo-grpc-headless`;
const ON = { valuesFiles: [join(chartDir, 'ci', 'grpc-demo-values.yaml')] };

const policyText = (manifests: ReturnType<typeof render>): string =>
  (find(manifests, 'ConfigMap', `${RELEASE}-policy`).data as Record<string, string>)['breakwater.yaml']!;

t.test('off by default: no gRPC objects, the policy untouched', async (t) => {
  const manifests = render();
  t.notOk(manifests.some((m) => m.metadata.name.startsWith(GRPC)), 'nothing named demo-grpc');
  t.notMatch(policyText(manifests), /demo-grpc/);
});

t.test('demo.grpc.enabled: two gRPC replicas with gRPC health probes', async (t) => {
  t.equal(lint(ON).status, 0, 'helm lint --strict');
  const manifests = render(ON);
  const deployment = find(manifests, 'Deployment', GRPC);
  t.doesNotThrow(() => validateManifest(deployment));
  t.equal((deployment.spec as { replicas: number }).replicas, 2);
  const pod = podTemplate(deployment);
  t.equal(pod.metadata.labels['app.kubernetes.io/component'], 'demo-grpc');
  const grpc = container(pod.spec, 'demo-grpc');
  t.same(grpc.command, ['node', 'dist/demo-backend/main.js']);
  t.equal(envValue(grpc, 'BACKEND_GRPC'), 'on');
  t.equal(envValue(grpc, 'BACKEND_PORT'), '8080');
  t.equal(envValue(grpc, 'BACKEND_FAILURE_RATE'), '0', 'no faults unless asked for');
  t.same(grpc.readinessProbe?.grpc, { port: 8080 }, 'readiness through grpc.health.v1');
  t.same(grpc.livenessProbe?.tcpSocket, { port: 'http' });
  t.same(grpc.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  const three = find(render({ ...ON, set: ['demo.grpc.replicas=3'] }), 'Deployment', GRPC);
  t.equal((three.spec as { replicas: number }).replicas, 3, 'replicas from values');
});

t.test('demo.grpc.enabled: a ClusterIP and a headless Service on h2c', async (t) => {
  const manifests = render(ON);
  for (const name of [GRPC, HEADLESS]) {
    const service = find(manifests, 'Service', name);
    t.doesNotThrow(() => validateManifest(service));
    const spec = service.spec as { ports: unknown[]; selector: Record<string, string>; clusterIP?: string };
    t.same(spec.ports, [{ name: 'grpc', port: 8080, targetPort: 'http', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' }], `${name} port`);
    t.equal(spec.selector['app.kubernetes.io/component'], 'demo-grpc');
  }
  t.equal((find(manifests, 'Service', HEADLESS).spec as { clusterIP: string }).clusterIP, 'None');
});

t.test('demo.grpc.enabled: the sidecar gets the example route and upstream, and Breakwater accepts the policy', async (t) => {
  const text = policyText(render(ON));
  const policy = parse(text) as { listeners: Array<{ routes: Array<Record<string, any>> }>; upstreams: Array<Record<string, any>> };
  const routes = policy.listeners[0]!.routes;
  t.match(routes[0], { name: 'grpc-demo', match: { grpc: { service: 'breakwater.demo.Demo' } }, upstream: 'demo-grpc', retry: { on: ['unavailable', 'connect-failure', 'reset'] } }, 'the gRPC route comes first');
  t.equal(routes[1]!.name, 'api', 'the HTTP route stays');
  t.match(policy.upstreams.at(-1), {
    name: 'demo-grpc', protocol: 'h2c', dns: { name: `${HEADLESS}.${NAMESPACE}.svc.cluster.local`, port: 8080 },
  });
  const parsed = parsePolicy(text, 'rendered policy');
  t.equal(parsed.upstreams.find((u) => u.name === 'demo-grpc')!.protocol, 'h2c');

  const tuned = parse(policyText(render({ ...ON, set: ['demo.grpc.route.timeout=5s', 'demo.grpc.upstream.connectTimeout=1s'] }))) as typeof policy;
  t.equal(tuned.listeners[0]!.routes[0]!.timeout, '5s', 'route policy from values');
  t.equal(tuned.upstreams.at(-1)!.connectTimeout, '1s', 'upstream policy from values');
});

t.test('values schema: demo.grpc refuses what it does not know', async (t) => {
  t.match(renderError({ ...ON, set: ['demo.grpc.replicas=0'] }), /replicas/);
  t.match(renderError({ ...ON, set: ['demo.grpc.colour=blue'] }), /colour/);
});
