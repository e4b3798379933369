import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { RollingStats } from '../../../../demo-client/rolling-stats.js';

const K8S_DIR = fileURLToPath(new URL('../../../../chaos/k8s/', import.meta.url));
const RELEASE_LABELS = { 'app.kubernetes.io/component': 'demo-backend', 'app.kubernetes.io/instance': 'breakwater-demo' };
const NAMESPACE = 'breakwater-demo';

type Doc = Record<string, any>;

async function load(relative: string): Promise<Doc> {
  const text = await readFile(K8S_DIR + relative, 'utf8');
  return relative.endsWith('.json') ? JSON.parse(text) : parse(text);
}

async function files(subdir: string): Promise<string[]> {
  const names = await readdir(K8S_DIR + subdir);
  return names.filter((n) => /\.(ya?ml|json)$/.test(n)).map((n) => subdir + n).sort();
}

// ---- Chaos Toolkit (chaostoolkit-lib's experiment and tolerance rules; chaostoolkit-kubernetes terminate_pods) ----

const TERMINATE_PODS_ARGS = new Set(['label_selector', 'name_pattern', 'all', 'rand', 'mode', 'qty', 'grace_period', 'ns']);

/** ${name} from the experiment's configuration: a literal or an env entry's default. */
function substitute(value: string, configuration: Doc): string {
  return value.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const entry = configuration[name];
    if (entry === undefined) throw new Error(`\${${name}} is not in the configuration`);
    return String(typeof entry === 'object' ? entry.default : entry);
  });
}

function checkTolerance(tolerance: unknown, where: string): void {
  if (['number', 'boolean', 'string'].includes(typeof tolerance) || Array.isArray(tolerance)) return;
  if (tolerance === null || typeof tolerance !== 'object') throw new Error(`${where}: tolerance must be a scalar, a list or an object`);
  const tol = tolerance as Doc;
  if (tol.type === 'jsonpath' && typeof tol.path === 'string' && tol.path.trim().startsWith('$')) return;
  if (tol.type === 'regex' && typeof tol.pattern === 'string') return;
  if (tol.type === 'range' && Array.isArray(tol.range) && tol.range.length === 2) return;
  if (tol.type === 'probe' && tol.provider) return;
  throw new Error(`${where}: unsupported tolerance ${JSON.stringify(tolerance)}`);
}

function checkActivity(activity: Doc, configuration: Doc, where: string): void {
  if (!['probe', 'action'].includes(activity.type)) throw new Error(`${where}: type must be probe or action`);
  if (typeof activity.name !== 'string' || activity.name === '') throw new Error(`${where}: name is required`);
  const provider = activity.provider ?? {};
  if (provider.type === 'http') {
    new URL(substitute(provider.url, configuration));
    if (typeof provider.timeout !== 'number' || provider.timeout <= 0) throw new Error(`${where}: http provider needs a timeout in seconds`);
    return;
  }
  if (provider.type === 'python' && provider.module === 'chaosk8s.pod.actions' && provider.func === 'terminate_pods') {
    const args = provider.arguments ?? {};
    const unknown = Object.keys(args).filter((k) => !TERMINATE_PODS_ARGS.has(k));
    if (unknown.length > 0) throw new Error(`${where}: terminate_pods has no argument(s) ${unknown.join(', ')}`);
    if (!['fixed', 'percentage'].includes(args.mode)) throw new Error(`${where}: terminate_pods mode must be fixed or percentage`);
    return;
  }
  throw new Error(`${where}: unknown provider ${JSON.stringify(provider)}`);
}

t.test('Chaos Toolkit experiments: required keys, known providers, valid tolerances', async (t) => {
  const experiments = await files('');
  t.same(experiments, ['pod-kill-all.yaml', 'pod-kill-one.yaml']);
  for (const file of experiments) {
    const doc = await load(file);
    for (const key of ['version', 'title', 'description', 'tags', 'configuration', 'steady-state-hypothesis', 'method', 'rollbacks']) {
      t.ok(key in doc, `${file}: has ${key}`);
    }
    const hypothesis = doc['steady-state-hypothesis'];
    t.type(hypothesis.title, 'string', `${file}: hypothesis has a title`);
    t.ok(hypothesis.probes.length > 0, `${file}: hypothesis has probes`);
    for (const [i, probe] of hypothesis.probes.entries()) {
      const where = `${file}: steady-state probe ${i}`;
      t.doesNotThrow(() => checkActivity(probe, doc.configuration, where), where);
      t.ok('tolerance' in probe, `${where}: has a tolerance`);
      t.doesNotThrow(() => checkTolerance(probe.tolerance, where), `${where}: tolerance is valid`);
    }
    t.ok(Array.isArray(doc.rollbacks), `${file}: rollbacks is a list`);
    t.ok(doc.method.length > 0, `${file}: method is not empty`);
    for (const [i, activity] of doc.method.entries()) {
      t.doesNotThrow(() => checkActivity(activity, doc.configuration, `${file}: method ${i}`), `${file}: method ${i} is known`);
    }
  }
});

t.test('Chaos Toolkit experiments: probes read the demo client /stats and the kills target the release backends', async (t) => {
  const stats = new RollingStats(60_000, 10).report(0);
  for (const [file, expectAll] of [['pod-kill-all.yaml', true], ['pod-kill-one.yaml', false]] as const) {
    const doc = await load(file);
    const probes: Doc[] = doc['steady-state-hypothesis'].probes;
    t.ok(probes.some((p) => p.tolerance === 200), `${file}: a probe expects status 200`);
    const rate = probes.find((p) => p.tolerance?.type === 'jsonpath');
    t.ok(rate, `${file}: a jsonpath probe checks the success rate`);
    t.equal(new URL(substitute(rate!.provider.url, doc.configuration)).pathname, '/stats');
    t.equal(rate!.tolerance.target, 'body', 'the tolerance reads the JSON body of the http probe');
    const match = /^\$\.window\[\?\(@\.successRate >= (0\.\d+)\)\]$/.exec(rate!.tolerance.path);
    t.ok(match, `${file}: path filters window.successRate: ${rate!.tolerance.path}`);
    t.type(stats.window.successRate, 'number', 'the demo client /stats really has window.successRate');
    const kill = doc.method.find((a: Doc) => a.provider?.func === 'terminate_pods');
    const args = kill.provider.arguments;
    t.equal(substitute(args.label_selector, doc.configuration), Object.entries(RELEASE_LABELS).map(([k, v]) => `${k}=${v}`).join(','));
    t.equal(substitute(args.ns, doc.configuration), NAMESPACE);
    t.equal(args.all, expectAll, `${file}: all = ${expectAll}`);
    if (!expectAll) t.match(args, { rand: true, mode: 'fixed', qty: 1 }, `${file}: exactly one random pod`);
  }
});

// ---- Chaos Mesh (chaos-mesh.org/v1alpha1: podchaos_types.go, networkchaos_types.go, schedule_types.go, selector.go) ----

const SELECTOR_MODES = ['one', 'all', 'fixed', 'fixed-percent', 'random-max-percent'];
const SELECTOR_KEYS = new Set(['namespaces', 'fieldSelectors', 'labelSelectors', 'expressionSelectors', 'annotationSelectors', 'nodes', 'pods', 'nodeSelectors', 'podPhaseSelectors']);
const POD_CHAOS_KEYS = new Set(['selector', 'mode', 'value', 'containerNames', 'action', 'duration', 'gracePeriod', 'remoteCluster']);
const NETWORK_CHAOS_KEYS = new Set(['selector', 'mode', 'value', 'action', 'device', 'duration', 'delay', 'loss', 'duplicate', 'corrupt', 'bandwidth', 'rate', 'direction', 'target', 'targetDevice', 'externalTargets', 'remoteCluster']);
const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

function checkKeys(spec: Doc, allowed: Set<string>, where: string): void {
  const unknown = Object.keys(spec).filter((k) => !allowed.has(k));
  if (unknown.length > 0) throw new Error(`${where}: unknown field(s) ${unknown.join(', ')}`);
}

function checkPodSelector(spec: Doc, where: string): void {
  if (!SELECTOR_MODES.includes(spec.mode)) throw new Error(`${where}: mode ${spec.mode} not in ${SELECTOR_MODES.join('|')}`);
  if (['fixed', 'fixed-percent', 'random-max-percent'].includes(spec.mode) && typeof spec.value !== 'string') throw new Error(`${where}: mode ${spec.mode} needs a value`);
  checkKeys(spec.selector ?? {}, SELECTOR_KEYS, `${where}.selector`);
  if (JSON.stringify(spec.selector?.labelSelectors) !== JSON.stringify(RELEASE_LABELS)) {
    throw new Error(`${where}: selector.labelSelectors must be ${JSON.stringify(RELEASE_LABELS)}, got ${JSON.stringify(spec.selector?.labelSelectors)}`);
  }
  if (!spec.selector.namespaces?.includes(NAMESPACE)) throw new Error(`${where}: selector.namespaces must include ${NAMESPACE}`);
  if (spec.duration !== undefined && !GO_DURATION.test(spec.duration)) throw new Error(`${where}: duration ${spec.duration} is not a Go duration`);
}

function checkPodChaos(spec: Doc, where: string): void {
  checkKeys(spec, POD_CHAOS_KEYS, where);
  if (!['pod-kill', 'pod-failure', 'container-kill'].includes(spec.action)) throw new Error(`${where}: action ${spec.action} is not a PodChaos action`);
  if (spec.gracePeriod !== undefined && !(Number.isInteger(spec.gracePeriod) && spec.gracePeriod >= 0)) throw new Error(`${where}: gracePeriod must be an integer >= 0`);
  checkPodSelector(spec, where);
}

function checkNetworkChaos(spec: Doc, where: string): void {
  checkKeys(spec, NETWORK_CHAOS_KEYS, where);
  if (!['netem', 'delay', 'loss', 'duplicate', 'corrupt', 'partition', 'bandwidth'].includes(spec.action)) throw new Error(`${where}: action ${spec.action} is not a NetworkChaos action`);
  if (spec.direction !== undefined && !['to', 'from', 'both'].includes(spec.direction)) throw new Error(`${where}: direction ${spec.direction} not in to|from|both`);
  if (spec.action === 'delay') {
    if (!GO_DURATION.test(spec.delay?.latency ?? '')) throw new Error(`${where}: delay.latency must be a Go duration`);
    if (spec.delay.jitter !== undefined && !GO_DURATION.test(spec.delay.jitter)) throw new Error(`${where}: delay.jitter must be a Go duration`);
  }
  checkPodSelector(spec, where);
}

function checkChaosMesh(doc: Doc, where: string): void {
  if (doc.apiVersion !== 'chaos-mesh.org/v1alpha1') throw new Error(`${where}: apiVersion must be chaos-mesh.org/v1alpha1`);
  if (!doc.metadata?.name || doc.metadata.namespace !== NAMESPACE) throw new Error(`${where}: metadata needs a name and namespace ${NAMESPACE}`);
  if (doc.kind === 'PodChaos') return checkPodChaos(doc.spec, `${where} spec`);
  if (doc.kind === 'NetworkChaos') return checkNetworkChaos(doc.spec, `${where} spec`);
  if (doc.kind === 'Schedule') {
    const spec = doc.spec;
    if (typeof spec.schedule !== 'string' || spec.schedule === '') throw new Error(`${where}: spec.schedule is required`);
    if (spec.concurrencyPolicy !== undefined && !['Forbid', 'Allow'].includes(spec.concurrencyPolicy)) throw new Error(`${where}: concurrencyPolicy not in Forbid|Allow`);
    const embedded: Record<string, [string, (s: Doc, w: string) => void]> = { PodChaos: ['podChaos', checkPodChaos], NetworkChaos: ['networkChaos', checkNetworkChaos] };
    const entry = embedded[spec.type];
    if (!entry) throw new Error(`${where}: spec.type ${spec.type} is not one this project schedules`);
    const [key, check] = entry;
    if (!spec[key]) throw new Error(`${where}: spec.type ${spec.type} needs spec.${key}`);
    return check(spec[key], `${where} spec.${key}`);
  }
  throw new Error(`${where}: kind ${doc.kind} is not PodChaos, NetworkChaos or Schedule`);
}

t.test('Chaos Mesh manifests: apiVersion, kind, CRD fields and enum values, release selectors', async (t) => {
  const manifests = await files('chaos-mesh/');
  t.same(manifests, ['chaos-mesh/network-delay-one.yaml', 'chaos-mesh/pod-kill-all.yaml', 'chaos-mesh/pod-kill-one.yaml', 'chaos-mesh/schedule-pod-kill.yaml']);
  for (const file of manifests) {
    const doc = await load(file);
    t.doesNotThrow(() => checkChaosMesh(doc, file), `${file} is a valid Chaos Mesh object`);
  }
  t.match(await load('chaos-mesh/pod-kill-one.yaml'), { kind: 'PodChaos', spec: { action: 'pod-kill', mode: 'one' } });
  t.match(await load('chaos-mesh/pod-kill-all.yaml'), { kind: 'PodChaos', spec: { action: 'pod-kill', mode: 'all' } });
  t.match(await load('chaos-mesh/network-delay-one.yaml'), { kind: 'NetworkChaos', spec: { action: 'delay', mode: 'one', delay: { latency: '2s' } } });
  t.match(await load('chaos-mesh/schedule-pod-kill.yaml'), { kind: 'Schedule', spec: { type: 'PodChaos', podChaos: { action: 'pod-kill' } } });
});

t.test('the checker itself rejects what the CRDs reject', async (t) => {
  const good = await load('chaos-mesh/pod-kill-one.yaml');
  const variant = (patch: (d: Doc) => void): Doc => {
    const copy = structuredClone(good);
    patch(copy);
    return copy;
  };
  t.throws(() => checkChaosMesh(variant((d) => (d.spec.action = 'pod-kil')), 'x'), /action pod-kil is not a PodChaos action/);
  t.throws(() => checkChaosMesh(variant((d) => (d.spec.mode = 'two')), 'x'), /mode two not in/);
  t.throws(() => checkChaosMesh(variant((d) => (d.spec.mode = 'fixed')), 'x'), /mode fixed needs a value/);
  t.throws(() => checkChaosMesh(variant((d) => (d.spec.gracePeriodSeconds = 0)), 'x'), /unknown field\(s\) gracePeriodSeconds/);
  t.throws(() => checkChaosMesh(variant((d) => (d.spec.selector.labelSelectors['app.kubernetes.io/component'] = 'demo-client')), 'x'), /labelSelectors must be/);
  t.throws(() => checkChaosMesh(variant((d) => (d.apiVersion = 'pingcap.com/v1alpha1')), 'x'), /apiVersion must be chaos-mesh.org\/v1alpha1/);
  t.throws(() => checkTolerance({ type: 'jsonpath' }, 'x'), /unsupported tolerance/);
  t.throws(() => checkActivity({ type: 'action', name: 'a', provider: { type: 'python', module: 'chaosk8s.pod.actions', func: 'terminate_pods', arguments: { mode: 'fixed', namespace: 'x' } } }, {}, 'x'), /no argument\(s\) namespace/);
});
