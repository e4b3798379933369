// Loads chaos/experiments/<name>.yaml into a validated Experiment; every error names the file and the field path.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import {
  ACTIONS,
  BASE_ARMS,
  type ArmSpec,
  type BackendSpec,
  type Experiment,
  type Faults,
  type LoadSpec,
  type SidecarPolicy,
  type TargetRef,
  type TimelineAction,
  type Topology,
} from './experiment.js';
import { ExperimentError, FieldReader } from './field-reader.js';
import { deepMerge } from './deep-merge.js';
import { HYPOTHESIS_METRICS } from './hypothesis.js';
import { policyProblems } from './policy.js';
import type { LoadProtocol } from '../../demo-client/load.js';
import type { BaseArm } from '../results.js';

/** Where a gRPC workload goes unless the file says otherwise: the demo service, and its Unary method. */
const GRPC_PATH_PREFIX = '/breakwater.demo.Demo/';
const GRPC_LOAD_PATH = '/breakwater.demo.Demo/Unary';

/** chaos/experiments, found from both the TypeScript sources and the compiled dist/chaos. */
export function experimentsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'chaos', 'experiments');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('chaos/experiments not found above the chaos runner');
    dir = parent;
  }
}

export async function listExperimentNames(dir = experimentsDir()): Promise<string[]> {
  const files = await readdir(dir);
  return files.filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
}

/** Resolves a name ("pod-kill-all") or a path to a .yaml file; unknown names list the available ones. */
export async function resolveExperimentFile(nameOrPath: string, dir = experimentsDir()): Promise<string> {
  if (/\.ya?ml$/.test(nameOrPath)) return nameOrPath;
  const names = await listExperimentNames(dir);
  if (!names.includes(nameOrPath)) {
    throw new ExperimentError(nameOrPath, '', `unknown experiment (available: ${names.join(', ')})`);
  }
  return path.join(dir, `${nameOrPath}.yaml`);
}

export async function loadExperiment(file: string): Promise<Experiment> {
  const shownFile = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ExperimentError(shownFile, '', `cannot read: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ExperimentError(shownFile, '', `invalid YAML: ${(error as Error).message}`);
  }
  const name = path.basename(file).replace(/\.ya?ml$/, '');
  return readExperiment(new FieldReader(shownFile, '', raw), name, file);
}

function readExperiment(root: FieldReader, name: string, file: string): Experiment {
  const f = root.object([
    'title', 'description', 'protocol', 'hypothesis', 'topology', 'load', 'policy', 'arms', 'timeline', 'arrivalsPer100ms',
  ]);
  const protocol: LoadProtocol = f.get('protocol')!.isPresent() ? f.get('protocol')!.oneOf(['http', 'grpc'] as const, 'protocol') : 'http';
  const topology = readTopology(f.get('topology')!, protocol);
  const load = readLoad(f.get('load')!, topology);
  const policy = readPolicy(f.get('policy')!, topology);
  const arms = readArms(f.get('arms')!, f.get('policy')!, topology);
  const armNames = arms.map((a) => a.name);
  const hypothesis = readHypothesis(f.get('hypothesis')!, armNames, load);
  const timeline = f.get('timeline')!.list().map((a) => readAction(a, topology, load.durationMs));
  const arrivals = f.get('arrivalsPer100ms')!;
  return {
    name,
    file,
    title: f.get('title')!.string(),
    protocol,
    description: f.get('description')!.isPresent() ? f.get('description')!.string() : undefined,
    hypothesis,
    topology,
    load,
    policy,
    arms,
    timeline: timeline.sort((a, b) => a.atMs - b.atMs),
    fineArrivals: arrivals.isPresent() ? arrivals.boolean() : false,
  };
}

function readTopology(reader: FieldReader, protocol: LoadProtocol): Topology {
  const f = reader.object(['backends', 'readinessPeriod', 'endpointDelay', 'nodeFailureDelay', 'gracePeriod']);
  const backends = f.get('backends')!.list().map((b) => readBackend(b, protocol));
  if (backends.length === 0) f.get('backends')!.fail('at least one backend is needed');
  const names = new Set<string>();
  backends.forEach((b, i) => {
    if (names.has(b.name)) f.get('backends')!.list()[i]!.fail(`duplicate backend name "${b.name}"`);
    names.add(b.name);
  });
  const optionalMs = (key: string, fallback: number) => (f.get(key)!.isPresent() ? f.get(key)!.durationMs() : fallback);
  return {
    backends,
    readinessPeriodMs: optionalMs('readinessPeriod', 500),
    endpointDelayMs: optionalMs('endpointDelay', 1500),
    nodeFailureDelayMs: optionalMs('nodeFailureDelay', 40_000),
    gracePeriodMs: optionalMs('gracePeriod', 30_000),
  };
}

function readBackend(reader: FieldReader, protocol: LoadProtocol): BackendSpec {
  const f = reader.object(['name', 'replicas', 'faults', 'readyDelay', 'restartDelay', 'pathPrefix']);
  const name = f.get('name')!.string();
  if (!/^[a-z][a-z0-9-]*$/.test(name)) f.get('name')!.fail(`"${name}" must be lowercase letters, digits and dashes`);
  const optionalMs = (key: string, fallback: number) => (f.get(key)!.isPresent() ? f.get(key)!.durationMs() : fallback);
  const prefix = f.get('pathPrefix')!;
  return {
    name,
    replicas: f.get('replicas')!.integer(1, 16),
    faults: f.get('faults')!.isPresent() ? readFaults(f.get('faults')!) : {},
    readyDelayMs: optionalMs('readyDelay', 1000),
    restartDelayMs: optionalMs('restartDelay', 3000),
    pathPrefix: prefix.isPresent() ? readPath(prefix) : protocol === 'grpc' ? GRPC_PATH_PREFIX : '/api',
    protocol,
  };
}

function readFaults(reader: FieldReader): Faults {
  const f = reader.object(['failureRate', 'failureStatus', 'slowRate', 'slowDelay', 'transientRate', 'retryAfter', 'hang']);
  const faults: Faults = {};
  const rate = (key: 'failureRate' | 'slowRate' | 'transientRate') => {
    if (f.get(key)!.isPresent()) faults[key] = f.get(key)!.number(0, 1);
  };
  rate('failureRate');
  rate('slowRate');
  rate('transientRate');
  if (f.get('failureStatus')!.isPresent()) faults.failureStatus = f.get('failureStatus')!.integer(400, 599);
  if (f.get('slowDelay')!.isPresent()) faults.slowDelay = f.get('slowDelay')!.durationText();
  if (f.get('retryAfter')!.isPresent()) faults.retryAfter = f.get('retryAfter')!.durationText();
  if (f.get('hang')!.isPresent()) faults.hang = f.get('hang')!.boolean();
  return faults;
}

function readPath(reader: FieldReader): string {
  const text = reader.string();
  if (!text.startsWith('/')) reader.fail(`"${text}" must start with /`);
  return text;
}

function readLoad(reader: FieldReader, topology: Topology): LoadSpec {
  const f = reader.object(['rate', 'duration', 'path', 'method', 'streams', 'clientTimeout', 'workers', 'clients']);
  const rate = f.get('rate')!.number(0.1, 5000);
  const durationMs = f.get('duration')!.durationMs();
  const clientTimeout = f.get('clientTimeout')!;
  const timeout = {
    ...(clientTimeout.isPresent() ? { clientTimeoutMs: clientTimeout.durationMs() } : {}),
    ...(f.get('workers')!.isPresent() ? { workers: f.get('workers')!.integer(1, 100_000) } : {}),
    ...(f.get('clients')!.isPresent() ? { clients: f.get('clients')!.integer(1, 64) } : {}),
  };
  const method = f.get('method')!.isPresent() ? f.get('method')!.oneOf(['GET', 'POST'], 'method') : 'GET';
  const backendNames = topology.backends.map((b) => b.name);
  if (!f.get('streams')!.isPresent()) {
    const backend = topology.backends[0]!;
    const loadPath = f.get('path')!.isPresent() ? readPath(f.get('path')!) : backend.protocol === 'grpc' ? GRPC_LOAD_PATH : '/api/data';
    return { rate, durationMs, streams: [{ name: backend.name, backend: backend.name, path: loadPath, method, rate }], ...timeout };
  }
  const streams = f.get('streams')!.list().map((s) => {
    const sf = s.object(['name', 'backend', 'path', 'method', 'rate']);
    return {
      name: sf.get('name')!.string(),
      backend: sf.get('backend')!.oneOf(backendNames, 'backend'),
      path: readPath(sf.get('path')!),
      method: sf.get('method')!.isPresent() ? sf.get('method')!.oneOf(['GET', 'POST'], 'method') : method,
      rate: sf.get('rate')!.number(0.1, 5000),
    };
  });
  if (streams.length === 0) f.get('streams')!.fail('at least one stream is needed');
  return { rate, durationMs, streams, ...timeout };
}

function readArms(reader: FieldReader, policy: FieldReader, topology: Topology): ArmSpec[] {
  const arms = reader.list().map((item): ArmSpec => {
    if (typeof item.value === 'string') return { name: item.value, base: item.oneOf(BASE_ARMS, 'arm') };
    const f = item.object(['name', 'base', 'policy']);
    const base: BaseArm = f.get('base')!.oneOf(BASE_ARMS, 'arm');
    const policyOverride = f.get('policy')!.isPresent() ? f.get('policy')!.record() : undefined;
    if (policyOverride) readPolicy(new FieldReader(item.file, `${f.get('policy')!.path}(merged)`, deepMerge(policy.record(), policyOverride)), topology);
    return { name: f.get('name')!.string(), base, policyOverride };
  });
  if (arms.length === 0) reader.fail('at least one arm is needed');
  const seen = new Set<string>();
  arms.forEach((arm, i) => {
    if (seen.has(arm.name)) reader.list()[i]!.fail(`duplicate arm "${arm.name}"`);
    seen.add(arm.name);
  });
  return arms;
}

function readHypothesis(reader: FieldReader, armNames: string[], load: LoadSpec): Experiment['hypothesis'] {
  const f = reader.object(['description', 'metric', 'op', 'value', 'arms', 'baseline', 'window', 'stream']);
  const armList = (key: string) => (f.get(key)!.isPresent() ? f.get(key)!.list().map((a) => a.oneOf(armNames, 'arm')) : undefined);
  const arms = armList('arms');
  const baseline = armList('baseline');
  const both = arms?.find((name) => baseline?.includes(name));
  if (both) f.get('baseline')!.fail(`"${both}" cannot be both protected (arms) and a baseline`);
  const windowReader = f.get('window')!;
  let window: Experiment['hypothesis']['window'];
  if (windowReader.isPresent()) {
    const w = windowReader.object(['from', 'to']);
    window = { fromMs: w.get('from')!.durationMs(), toMs: w.get('to')!.durationMs() };
    if (window.toMs <= window.fromMs) w.get('to')!.fail('must be after window.from');
  }
  const stream = f.get('stream')!;
  return {
    description: f.get('description')!.string(),
    metric: f.get('metric')!.oneOf(HYPOTHESIS_METRICS, 'metric'),
    op: f.get('op')!.oneOf(['>=', '<='] as const, 'operator'),
    value: f.get('value')!.number(Number.NEGATIVE_INFINITY),
    ...(arms ? { arms } : {}),
    ...(baseline ? { baseline } : {}),
    ...(window ? { window } : {}),
    ...(stream.isPresent() ? { stream: stream.oneOf(load.streams.map((s) => s.name), 'stream') } : {}),
  };
}

/** The sidecar policy, checked by Breakwater's own policy validator on the file the runner would write. */
function readPolicy(reader: FieldReader, topology: Topology): SidecarPolicy {
  const policy = reader.record();
  const problems = policyProblems(policy, topology, reader.path);
  if (problems.length === 1) throw new ExperimentError(reader.file, '', problems[0]!);
  if (problems.length > 1) throw new ExperimentError(reader.file, '', `${problems.length} problems\n  ${problems.join('\n  ')}`);
  return policy;
}

/** `policy` with an arm's override merged over it (validated when the experiment was read). */
export function policyForArm(experiment: Experiment, armName: string): SidecarPolicy {
  const arm = experiment.arms.find((a) => a.name === armName);
  return arm?.policyOverride ? deepMerge(experiment.policy, arm.policyOverride) : experiment.policy;
}

function readAction(reader: FieldReader, topology: Topology, durationMs: number): TimelineAction {
  const f = reader.object(['at', 'action', 'target', 'delay', 'rate', 'status', 'mode']);
  const atMs = f.get('at')!.durationMs();
  if (atMs >= durationMs) f.get('at')!.fail(`is at or after the end of the load (${durationMs} ms)`);
  const action = f.get('action')!.oneOf(ACTIONS, 'action');
  const result: TimelineAction = { atMs, action };
  if (action !== 'restore') result.target = readTarget(f.get('target')!, topology);
  else if (f.get('target')!.isPresent()) f.get('target')!.fail('restore takes no target: it rolls back every fault');
  const need = (key: string) => {
    if (!f.get(key)!.isPresent()) f.get(key)!.fail(`required for action "${action}"`);
    return f.get(key)!;
  };
  if (action === 'latency') {
    result.delayMs = need('delay').durationMs();
    result.rate = f.get('rate')!.isPresent() ? f.get('rate')!.number(0, 1) : 1;
  }
  if (action === 'packet-loss') result.rate = need('rate').number(0, 1);
  if (action === 'errors') {
    result.rate = need('rate').number(0, 1);
    if (f.get('status')!.isPresent()) result.status = f.get('status')!.integer(400, 599);
  }
  if (action === 'blackhole') {
    result.mode = need('mode').oneOf(['drop', 'delay'] as const, 'blackhole mode');
    if (result.mode === 'delay') result.delayMs = need('delay').durationMs();
  }
  return result;
}

/** "backend/0" (one replica) or "backend/all". */
function readTarget(reader: FieldReader, topology: Topology): TargetRef {
  const text = reader.string();
  const match = /^([a-z][a-z0-9-]*)\/(all|\d+)$/.exec(text);
  if (!match) reader.fail(`"${text}" is not a target (expected <backend>/<replica index> or <backend>/all)`);
  const backend = topology.backends.find((b) => b.name === match[1]);
  if (!backend) reader.fail(`unknown backend "${match[1]}" (expected one of: ${topology.backends.map((b) => b.name).join(', ')})`);
  if (match[2] === 'all') return { backend: backend.name, replica: 'all' };
  const replica = Number(match[2]);
  if (replica >= backend.replicas) reader.fail(`replica ${replica} does not exist (backend "${backend.name}" has ${backend.replicas})`);
  return { backend: backend.name, replica };
}
