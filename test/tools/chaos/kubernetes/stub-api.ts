import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface StubPod {
  name: string;
  labels: Record<string, string>;
  ready: boolean;
  ip?: string;
  terminating?: boolean;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

export interface StubApi {
  origin: string;
  /** Every request the stub answered, in order. */
  seen: SeenRequest[];
  pods: StubPod[];
  /** Called after a pod is deleted, e.g. to add its not-yet-ready replacement. */
  onDelete?: (pod: StubPod) => void;
  /** Called before each list, e.g. to make replacements ready. */
  onList?: () => void;
  /** Namespaces for which the stub answers 403 like a cluster without RBAC for pods. */
  forbidden: Set<string>;
  kubeConfig(): KubeConfig;
  close(): Promise<void>;
}

/** A minimal Kubernetes API server: list pods by equality label selector, delete a pod. Plain HTTP on loopback. */
export async function startStubApi(pods: StubPod[]): Promise<StubApi> {
  const stub: StubApi = {
    origin: '',
    seen: [],
    pods,
    forbidden: new Set(),
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'stub', server: stub.origin, skipTLSVerify: true }],
        users: [{ name: 'tester', token: 'test-token' }],
        contexts: [{ name: 'stub', cluster: 'stub', user: 'tester' }],
        currentContext: 'stub',
      });
      return kc;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(stub, req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stub.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}

function answer(stub: StubApi, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://stub');
  const query = Object.fromEntries(url.searchParams);
  stub.seen.push({ method: req.method ?? '', path: url.pathname, query });
  const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/.exec(url.pathname);
  if (!match) return json(res, 404, status(404, 'NotFound', `no route ${url.pathname}`));
  const [, namespace, name] = match;
  if (stub.forbidden.has(namespace!)) {
    return json(res, 403, status(403, 'Forbidden', `pods is forbidden: User "tester" cannot list resource "pods" in the namespace "${namespace}"`));
  }
  if (req.method === 'GET' && !name) {
    stub.onList?.();
    const wanted = parseSelector(query.labelSelector ?? '');
    const items = stub.pods.filter((pod) => Object.entries(wanted).every(([k, v]) => pod.labels[k] === v)).map((pod) => toPod(pod, namespace!));
    return json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items });
  }
  if (req.method === 'DELETE' && name) {
    const pod = stub.pods.find((p) => p.name === name);
    if (!pod) return json(res, 404, status(404, 'NotFound', `pods "${name}" not found`));
    stub.pods = stub.pods.filter((p) => p !== pod);
    stub.onDelete?.(pod);
    return json(res, 200, toPod(pod, namespace!));
  }
  json(res, 405, status(405, 'MethodNotAllowed', `${req.method} not supported by the stub`));
}

function parseSelector(selector: string): Record<string, string> {
  return Object.fromEntries(selector.split(',').filter(Boolean).map((term) => term.split('=') as [string, string]));
}

function toPod(pod: StubPod, namespace: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.name, namespace, labels: pod.labels, ...(pod.terminating ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}) },
    status: {
      phase: 'Running',
      ...(pod.ip ? { podIP: pod.ip } : {}),
      conditions: [{ type: 'Ready', status: pod.ready ? 'True' : 'False' }],
    },
  };
}

function status(code: number, reason: string, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code };
}

function json(res: ServerResponse, code: number, body: object): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
