// The targets of the HTTP/2 and gRPC comparison, one set per protocol, each in front of that protocol's upstream:
// the upstream itself, Breakwater (HTTP/1.1 and h2c on one listener; the upstream with `protocol: h2c`), HAProxy
// (`proto h2` on both sides) and nginx (an `http2` listener and grpc_pass, its only HTTP/2 upstream).
import { DEMO_SERVICE } from '../../demo-backend/grpc/protos.js';
import { freePort } from '../harness/free-port.js';
import { INSTALL_HINT } from '../harness/tools.js';
import { breakwaterConfig, policyProblems, pooledUpstream, realisticRoute, startBreakwater } from './breakwater.js';
import { DIRECT_TARGET, type TargetDefinition } from './comparison-targets.js';
import { startHaproxy } from './haproxy.js';
import { nginxGrpcProxyConfig, startNginx } from './nginx.js';

export type H2ProtocolName = 'h2c' | 'grpc';

/**
 * The realistic policy of the HTTP/1.1 comparison, its upstream spoken to in h2c; for gRPC its route matches the
 * service, as a gRPC sidecar's would (its retry on 503 also takes UNAVAILABLE, whose HTTP equivalent 503 is).
 */
export function h2BreakwaterConfig(protocol: H2ProtocolName, upstream: string): object {
  const route = realisticRoute('api', '/', 'backend');
  const routes = [protocol === 'grpc' ? { ...route, match: { grpc: { service: DEMO_SERVICE } } } : route];
  return breakwaterConfig(routes, [{ ...pooledUpstream('backend', [upstream]), protocol: 'h2c' }]);
}

export function h2TargetDefinitions(protocol: H2ProtocolName): TargetDefinition[] {
  return [
    DIRECT_TARGET,
    {
      name: 'breakwater',
      label: 'Breakwater, realistic policy',
      async start(env) {
        if (env.breakwaterUnavailable) return env.breakwaterUnavailable;
        const name = `breakwater-${protocol}`;
        const config = h2BreakwaterConfig(protocol, env.upstream);
        const rejected = policyProblems(name, env.scratchDir, config);
        if (rejected) return `this build rejects the ${protocol} policy: ${rejected}`;
        const instance = await startBreakwater(name, env.scratchDir, config, env.proxyCpus);
        return { url: instance.url, pid: instance.process.pid };
      },
    },
    {
      name: 'nginx',
      label: 'nginx, 1 worker, grpc_pass',
      async start(env) {
        if (!env.has.nginx) return `nginx not installed (${INSTALL_HINT})`;
        const port = await freePort();
        const name = `nginx-${protocol}`;
        const nginx = await startNginx(name, env.scratchDir, nginxGrpcProxyConfig(name, env.scratchDir, port, env.upstream), port, env.proxyCpus);
        return { url: `http://127.0.0.1:${port}`, pid: nginx.workerPid };
      },
    },
    {
      name: 'haproxy',
      label: 'HAProxy, 1 thread, proto h2',
      async start(env) {
        if (!env.has.haproxy) return `haproxy not installed (${INSTALL_HINT})`;
        const port = await freePort();
        const haproxy = await startHaproxy(env.scratchDir, port, env.upstream, env.proxyCpus, { name: `haproxy-${protocol}`, protocol: 'h2' });
        return { url: `http://127.0.0.1:${port}`, pid: haproxy.pid };
      },
    },
  ];
}
