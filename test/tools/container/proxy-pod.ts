/**
 * The image run as a sidecar next to a demo backend, both from the image, in one pod (loopback only): the backend on
 * 127.0.0.1:8080, the proxy's egress listener on 127.0.0.1:15001 and its admin on 127.0.0.1:9901, the policy mounted
 * read-only at /etc/breakwater as the chart mounts its ConfigMap, each container with the chart's security context.
 */
import { stringify } from 'yaml';
import { ConfigMapDir } from './configmap-dir.js';
import { Pod } from './pod.js';
import { CHART_SECURITY_FLAGS } from './security-flags.js';

export const EGRESS_URL = 'http://127.0.0.1:15001/api/data';
export const READYZ_URL = 'http://127.0.0.1:9901/readyz';
export const BACKEND_NAME = 'pod-backend';

export interface ProxyPodOptions {
  /** demo-backend flags beyond address and name, e.g. its faults. */
  backendArgs: string[];
  drain: { delay: string; timeout: string };
}

export interface ProxyPod {
  pod: Pod;
  /** podman name of the proxy container. */
  proxy: string;
  remove(): void;
}

export function proxyPolicy(drain: ProxyPodOptions['drain']): string {
  return stringify({
    admin: { address: '127.0.0.1:9901' },
    listeners: [{ name: 'egress', address: '127.0.0.1:15001', routes: [{ name: 'api', match: { pathPrefix: '/api' }, upstream: 'backend', timeout: '10s' }] }],
    upstreams: [{ name: 'backend', endpoints: ['127.0.0.1:8080'] }],
    drain,
  });
}

/** Starts the pod and waits (bounded) until the backend and the proxy are ready. Removes what it made on failure. */
export async function startProxyPod(name: string, opts: ProxyPodOptions): Promise<ProxyPod> {
  const policy = new ConfigMapDir({ 'breakwater.yaml': proxyPolicy(opts.drain) });
  const pod = Pod.create(name);
  const remove = () => { pod.remove(); policy.remove(); };
  try {
    pod.start('backend', [...CHART_SECURITY_FLAGS, '--entrypoint', 'node'],
      ['dist/demo-backend/main.js', '--host', '127.0.0.1', '--port', '8080', '--name', BACKEND_NAME, ...opts.backendArgs]);
    await pod.waitFor('http://127.0.0.1:8080/readyz', 'demo-backend container');
    // The image's own entrypoint and command: `breakwater --config /etc/breakwater/breakwater.yaml`.
    const proxy = pod.start('proxy', [...CHART_SECURITY_FLAGS, '--volume', `${policy.path}:/etc/breakwater:ro`]);
    await pod.waitFor(READYZ_URL, 'proxy container');
    return { pod, proxy, remove };
  } catch (err) {
    const logs = pod.allLogs();
    remove();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
}
