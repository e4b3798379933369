// The image users build (`npm run image`, the project's Dockerfile), run for real: its user, its entrypoint, its
// contents, its size, and the proxy in it forwarding to a demo backend container.
import t from 'tap';
import { render } from '../chart/helm.js';
import { find } from '../chart/manifests.js';
import { ConfigMapDir } from './configmap-dir.js';
import { containerTestsCanRun, IMAGE, leftovers, LIMIT_FLAGS, podman, podmanOk, runName } from './podman.js';
import { CHART_SECURITY_FLAGS } from './security-flags.js';
import { BACKEND_NAME, EGRESS_URL, READYZ_URL, startProxyPod } from './proxy-pod.js';

/** `podman run --rm` of the image with the chart's security context and the given flags; status and output. */
function runOnce(flags: string[], args: string[]) {
  return podman(['run', '--rm', '--name', runName(`once-${Date.now()}`), ...CHART_SECURITY_FLAGS, ...LIMIT_FLAGS, ...flags, IMAGE, ...args], 120_000);
}

if (containerTestsCanRun(t)) {
  t.test('runs as uid 1000 with breakwater on PATH as its entrypoint', async (t) => {
    const config = JSON.parse(podmanOk(['image', 'inspect', '--format', '{{json .Config}}', IMAGE])) as { User: string; Entrypoint: string[]; Cmd: string[] };
    t.equal(config.User, '1000:1000', 'numeric user, so Kubernetes can check runAsNonRoot');
    t.same(config.Entrypoint, ['breakwater']);
    t.same(config.Cmd, ['--config', '/etc/breakwater/breakwater.yaml'], 'the path the chart mounts its policy at');
    const ids = runOnce(['--entrypoint', 'sh'], ['-c', 'id -u; id -g; command -v breakwater; touch /tmp/x 2>&1; exit 0']);
    t.equal(ids.status, 0, ids.stderr);
    const [uid, gid, path, write] = ids.stdout.trim().split('\n');
    t.equal(uid, '1000');
    t.equal(gid, '1000');
    t.equal(path, '/usr/local/bin/breakwater');
    t.match(write, /Read-only file system/, 'the root filesystem is read-only, /tmp included');
  });

  t.test('--help, --version and validate work as the entrypoint, on a read-only root', async (t) => {
    const help = runOnce([], ['--help']);
    t.equal(help.status, 0, help.stderr);
    t.match(help.stdout, /breakwater validate FILE/);
    const version = runOnce([], ['--version']);
    t.equal(version.stdout.trim(), IMAGE.split(':')[1]);

    // The chart's own policy, from its ConfigMap, mounted the way the chart mounts it.
    const configMap = find(render(), 'ConfigMap', 'breakwater-demo-policy').data as Record<string, string>;
    const policyDir = new ConfigMapDir(configMap);
    t.teardown(() => policyDir.remove());
    const valid = runOnce(['--volume', `${policyDir.path}:/etc/breakwater:ro`], ['validate', '/etc/breakwater/breakwater.yaml']);
    t.equal(valid.status, 0, `${valid.stdout}${valid.stderr}`);
    t.match(valid.stdout, /breakwater\.yaml: ok \(1 listener\(s\), 1 route\(s\), 1 upstream\(s\)\)/);

    policyDir.update({ 'breakwater.yaml': configMap['breakwater.yaml']!.replace(/timeout: 3s/, 'timeout: 3 seconds') });
    const invalid = runOnce(['--volume', `${policyDir.path}:/etc/breakwater:ro`], ['validate', '/etc/breakwater/breakwater.yaml']);
    t.equal(invalid.status, 1, 'a bad policy fails validation');
    t.match(invalid.stderr, /timeout/, `names the problem: ${invalid.stderr}`);
  });

  t.test('holds the runtime only: no dev dependencies, tests, sources or build-time npm settings', async (t) => {
    const script = `
      const fs = require('node:fs');
      const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(dir + '/' + e.name) : [dir + '/' + e.name]);
      console.log(JSON.stringify({
        app: fs.readdirSync('/app').sort(),
        modules: fs.readdirSync('/app/node_modules'),
        typescript: walk('/app/dist').filter((f) => f.endsWith('.ts')),
        npmrc: fs.existsSync('/usr/local/etc/npmrc') ? fs.readFileSync('/usr/local/etc/npmrc', 'utf8') : '',
      }));`;
    const listing = runOnce(['--entrypoint', 'node'], ['-e', script]);
    t.equal(listing.status, 0, listing.stderr);
    const found = JSON.parse(listing.stdout) as { app: string[]; modules: string[]; typescript: string[]; npmrc: string };
    t.same(found.app, ['dist', 'node_modules', 'package-lock.json', 'package.json'], 'only the compiled output and the install');
    // (@types is not among them: protobufjs, under the gRPC demo's proto-loader, depends on @types/node at run time.)
    for (const devOnly of ['typescript', 'tap', 'kubernetes-models', '@kubernetes', 'vega', '@aws-cdk', '@sinclair', 'ws']) {
      t.notOk(found.modules.includes(devOnly), `${devOnly} is not installed`);
    }
    t.same(found.typescript, [], 'no TypeScript sources in dist/');
    t.equal(found.npmrc.trim(), '', 'no registry or certificate settings from the build machine');
    const registry = runOnce(['--entrypoint', 'npm', '--env', 'HOME=/tmp', '--tmpfs', '/tmp'], ['config', 'get', 'registry']);
    t.equal(registry.stdout.trim(), 'https://registry.npmjs.org/', 'npm in the image uses the public registry');
  });

  t.test('its size is reported', async (t) => {
    const bytes = Number(podmanOk(['image', 'inspect', '--format', '{{.Size}}', IMAGE]));
    const created = podmanOk(['image', 'inspect', '--format', '{{.Created}}', IMAGE]);
    t.comment(`image ${IMAGE}: ${(bytes / 1e6).toFixed(0)} MB (built ${created})`);
    // A Node.js base is ~250 MB; a bound well above it catches a build that ships its dev dependencies or caches.
    t.ok(bytes < 400e6, `image size ${(bytes / 1e6).toFixed(0)} MB is below 400 MB`);
  });

  t.test('the proxy in it forwards to a demo backend container in the same pod', async (t) => {
    const { pod, proxy, remove } = await startProxyPod(runName('image'), {
      backendArgs: ['--failure-rate', '0', '--slow-rate', '0'], drain: { delay: '0s', timeout: '5s' },
    });
    t.teardown(remove);
    const [response] = await pod.get(EGRESS_URL);
    t.equal(response?.status, 200, JSON.stringify(response));
    t.equal(response?.replica, BACKEND_NAME, 'answered by the backend container behind the proxy');
    const [ready] = await pod.get(READYZ_URL);
    t.equal(ready?.status, 200, 'the admin /readyz the chart probes answers');
    // Its root filesystem is read-only with no tmpfs: anything it tried to write would have failed, and said so.
    const complaints = pod.logs(proxy).split('\n').filter((line) => /"level":(40|50|60)/.test(line));
    t.same(complaints, [], 'the proxy logged no warning or error');
  });

  t.test('leaves no container or network behind', async (t) => {
    t.same(leftovers(), []);
  });
}
