// What the container image runs, without a Docker engine: the runtime stage's production-only install
// (`npm ci --omit=dev --ignore-scripts` next to the built dist/), then the proxy and the demo backend started from it,
// and a request through the proxy to the backend.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';
import { repoRoot } from './helm.js';

type LogLine = Record<string, unknown>;

const image = mkdtempSync(join(tmpdir(), 'breakwater-image-'));
t.teardown(() => rmSync(image, { recursive: true, force: true }));

/** Starts `node ARGS` inside the install and resolves with the first JSON log line `isReady` accepts (bounded). */
async function start(args: string[], isReady: (line: LogLine) => boolean): Promise<LogLine> {
  const child = spawn(process.execPath, args, { cwd: image, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${args.join(' ')}: not ready after 20 s; stderr: ${stderr}`)), 20_000);
    child.on('exit', (code) => reject(new Error(`node ${args.join(' ')} exited with ${code}; stderr: ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (text) => {
      let line: LogLine;
      try { line = JSON.parse(text) as LogLine; } catch { return; }
      if (isReady(line)) { clearTimeout(timer); resolve(line); }
    });
  });
}

t.test('production install: only runtime dependencies', async (t) => {
  t.ok(existsSync(join(repoRoot, 'dist', 'proxy', 'cli.js')), 'dist/ is built (npm run build) before this test');
  for (const file of ['package.json', 'package-lock.json']) cpSync(join(repoRoot, file), join(image, file));
  cpSync(join(repoRoot, 'dist'), join(image, 'dist'), { recursive: true });
  // --prefer-offline: served from the npm cache that installed this checkout; the registry only for what is missing.
  const install = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: image, encoding: 'utf8', timeout: 120_000,
  });
  t.equal(install.status, 0, `npm ci --omit=dev: ${install.stderr}`);
  // (@types/node is not among them: protobufjs, under the gRPC demo's proto-loader, depends on it at run time.)
    for (const devOnly of ['typescript', 'tap', 'kubernetes-models', '@fastify/http-proxy', '@sinclair/typebox', 'ws']) {
    t.notOk(existsSync(join(image, 'node_modules', devOnly)), `${devOnly} is not installed`);
  }
});

t.test('the proxy and the demo backend run from it; a request goes through', async (t) => {
  const backend = await start(['dist/demo-backend/main.js', '--port', '0', '--failure-rate', '0', '--slow-rate', '0', '--name', 'image-backend'],
    (line) => line.msg === 'listening' && typeof line.port === 'number');
  mkdirSync(join(image, 'policy'));
  const policyFile = join(image, 'policy', 'breakwater.yaml');
  writeFileSync(policyFile, stringify({
    admin: { address: '127.0.0.1:0' },
    listeners: [{ name: 'egress', address: '127.0.0.1:0', routes: [{ name: 'api', match: { pathPrefix: '/api' }, upstream: 'backend', timeout: '3s' }] }],
    // dns: the discovery path the chart uses, resolving a literal address so the test needs no DNS.
    upstreams: [{ name: 'backend', dns: { name: '127.0.0.1', port: backend.port, refresh: '5s' } }],
    drain: { delay: '0s', timeout: '2s' },
  }));
  const ready = await start(['dist/proxy/cli.js', '--config', policyFile], (line) => line.msg === 'breakwater ready');
  const listener = (ready.listeners as Record<string, string>).egress;
  t.ok(listener, `the ready line names the egress listener: ${JSON.stringify(ready)}`);

  const response = await fetch(`http://${listener}/api/data`, { signal: AbortSignal.timeout(10_000) });
  await response.arrayBuffer();
  t.equal(response.status, 200);
  t.equal(response.headers.get('x-backend-replica'), 'image-backend', 'answered by the backend behind the proxy');
  const readyz = await fetch(`http://${String(ready.admin)}/readyz`, { signal: AbortSignal.timeout(10_000) });
  await readyz.arrayBuffer();
  t.equal(readyz.status, 200, 'the admin /readyz the chart probes answers');
});
